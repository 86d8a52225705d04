// A registered API (resource server): the audience of machine and user JWTs.
export interface Api {
  id: string;
  /** The `resource` / `aud` value, an absolute URI, unique. */
  identifier: string;
  name: string | null;
  scopes: string[];
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtl: number;
  createdAt: Date;
}

export interface NewApi {
  identifier: string;
  name?: string;
  scopes: string[];
  accessTokenTtl: number;
}

/** What the token path needs (a cached implementation sits in front of the table). */
export interface ApiLookup {
  findByIdentifier(identifier: string): Promise<Api | undefined>;
}
