// A registered OAuth client as Latchkey stores it.
import { SIGNING_ALGS, type SigningAlg } from '../protocol/constants.ts';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const KNOWN_GRANT_TYPES = new Set<string>(GRANT_TYPES);
/** A grant type a request named, as a bounded value (metric label, audit detail): a known one, else "other". */
export const grantTypeLabel = (value: unknown): string => (typeof value === 'string' && KNOWN_GRANT_TYPES.has(value) ? value : 'other');

/** ID token signing algorithms a client may choose: any the server signs with (it has a key for each). */
export const ID_TOKEN_ALGS = SIGNING_ALGS;
export type IdTokenAlg = SigningAlg;

export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
export const AUTH_METHODS: readonly AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

/** Scopes of one API that a client may obtain. */
export interface ClientApiGrant {
  apiIdentifier: string;
  scopes: string[];
}

export interface Client {
  clientId: string;
  name: string;
  grantTypes: GrantType[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  tokenEndpointAuthMethod: AuthMethod;
  /** Keyed hash (see server/crypto/secrets.ts hashSecret); null for public / private_key_jwt clients. */
  secretHash: string | null;
  /** Hash of the secret replaced by rotate-secret, valid until previousSecretExpiresAt. */
  previousSecretHash: string | null;
  previousSecretExpiresAt: Date | null;
  /** Public keys for private_key_jwt. */
  jwks: { keys: object[] } | null;
  firstParty: boolean;
  /** Sign-ins for this client need a second factor, whatever MFA_POLICY says. */
  requireMfa: boolean;
  /** A remembered device may stand in for the second factor (false: always ask). */
  trustedDevices: boolean;
  idTokenAlg: IdTokenAlg;
  apis: ClientApiGrant[];
  createdAt: Date;
}

export interface NewClient {
  name: string;
  grantTypes: GrantType[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  tokenEndpointAuthMethod: AuthMethod;
  jwks: { keys: object[] } | null;
  firstParty: boolean;
  /** Default false. */
  requireMfa?: boolean;
  /** Default true. */
  trustedDevices?: boolean;
  idTokenAlg: IdTokenAlg;
  apis: ClientApiGrant[];
}

/** What `clients update` may change; absent fields stay as they are. */
export type ClientChanges = Partial<Pick<Client,
  'name' | 'redirectUris' | 'postLogoutRedirectUris' | 'firstParty' | 'requireMfa' | 'trustedDevices'>>;

/** How the Client adapter finds a client the Provider was not built with (a cache sits in front of the table). */
export interface ClientLookup {
  findById(clientId: string): Promise<Client | undefined>;
}
