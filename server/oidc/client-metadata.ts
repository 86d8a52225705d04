// Latchkey's client record <-> oidc-provider client metadata, both ways. A
// client exists once on the request path: as the Provider's client, whose
// metadata carries Latchkey's own fields (extraClientMetadata, validated when
// the Provider builds the client). Everything that needs them reads them with
// latchkeyFieldsOf(ctx.oidc.client), never from a second lookup of the record.
import { errors, type Client as ProviderClient, type ClientMetadata } from 'oidc-provider';
import type { Client, ClientApiGrant } from '../clients/types.ts';
import { isSecretHash } from '../crypto/secrets.ts';
import { OIDC_SCOPES, PRIVATE_USE_SCHEME } from '../protocol/constants.ts';

/** Latchkey's fields of a client, as the request path reads them. */
export interface LatchkeyClientFields {
  /** The APIs the client may obtain tokens for, with their scopes. */
  apis: ClientApiGrant[];
  /** Consent is skipped. */
  firstParty: boolean;
  /** Sign-ins for this client need a second factor, whatever MFA_POLICY says. */
  requireMfa: boolean;
  /** A remembered device may stand in for the second factor. */
  trustedDevices: boolean;
  /** Keyed hash of the current secret (oidc-provider's client_secret); null without one. */
  secretHash: string | null;
  /** Hash of the secret replaced by rotate-secret, valid until previousSecretExpiresAt (epoch seconds). */
  previousSecretHash: string | null;
  previousSecretExpiresAt: number | null;
}

/** The extraClientMetadata property of each field (the current secret hash is the standard client_secret). */
const PROPERTY = {
  apis: 'latchkey_apis',
  firstParty: 'latchkey_first_party',
  requireMfa: 'latchkey_require_mfa',
  trustedDevices: 'latchkey_trusted_devices',
  previousSecretHash: 'latchkey_previous_secret_hash',
  previousSecretExpiresAt: 'latchkey_previous_secret_expires_at',
} as const;

type ExtraMetadata = Pick<LatchkeyClientFields, 'apis' | 'firstParty' | 'requireMfa' | 'trustedDevices'>
  & Partial<Pick<LatchkeyClientFields, 'previousSecretHash' | 'previousSecretExpiresAt'>>;

/** Latchkey's fields as extra client metadata (the built-in account client uses this too). */
export function latchkeyMetadata(fields: ExtraMetadata): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    [PROPERTY.apis]: fields.apis.map((grant) => ({ apiIdentifier: grant.apiIdentifier, scopes: [...grant.scopes] })),
    [PROPERTY.firstParty]: fields.firstParty,
    [PROPERTY.requireMfa]: fields.requireMfa,
    [PROPERTY.trustedDevices]: fields.trustedDevices,
  };
  if (fields.previousSecretHash && fields.previousSecretExpiresAt) {
    metadata[PROPERTY.previousSecretHash] = fields.previousSecretHash;
    metadata[PROPERTY.previousSecretExpiresAt] = fields.previousSecretExpiresAt;
  }
  return metadata;
}

/** Latchkey's fields of a client oidc-provider built (its validator checked them: see validateLatchkeyMetadata). */
export function latchkeyFieldsOf(client: ProviderClient): LatchkeyClientFields {
  const metadata = client as unknown as Record<string, unknown>;
  return {
    apis: metadata[PROPERTY.apis] as ClientApiGrant[],
    firstParty: metadata[PROPERTY.firstParty] as boolean,
    requireMfa: metadata[PROPERTY.requireMfa] as boolean,
    trustedDevices: metadata[PROPERTY.trustedDevices] as boolean,
    secretHash: client.clientSecret ?? null,
    previousSecretHash: (metadata[PROPERTY.previousSecretHash] as string | undefined) ?? null,
    previousSecretExpiresAt: (metadata[PROPERTY.previousSecretExpiresAt] as number | undefined) ?? null,
  };
}

export const EXTRA_CLIENT_PROPERTIES: readonly string[] = Object.values(PROPERTY);

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length > 0);

function isGrant(value: unknown): value is ClientApiGrant {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { apiIdentifier, scopes, ...rest } = value as Record<string, unknown>;
  return Object.keys(rest).length === 0 && typeof apiIdentifier === 'string' && apiIdentifier.length > 0 && isStringArray(scopes);
}

/**
 * oidc-provider's extraClientMetadata.validator: called for every property of
 * EXTRA_CLIENT_PROPERTIES whenever it builds a client. Every client has the
 * four settings (no default stands in for a missing one); a previous secret
 * hash comes with its expiry. Secrets are hashes, never plaintext. Messages
 * name the property, never its value.
 */
export function validateLatchkeyMetadata(_ctx: unknown, key: string, value: unknown, metadata: ClientMetadata): void {
  const invalid = (what: string) => new errors.InvalidClientMetadata(`${key} must be ${what}`);
  switch (key) {
    case PROPERTY.apis: {
      if (!Array.isArray(value) || !value.every(isGrant)) throw invalid('an array of { apiIdentifier, scopes } grants');
      const identifiers = value.map((grant) => grant.apiIdentifier);
      if (new Set(identifiers).size !== identifiers.length) throw invalid('a list naming each API once');
      return;
    }
    case PROPERTY.firstParty:
    case PROPERTY.requireMfa:
    case PROPERTY.trustedDevices:
      if (typeof value !== 'boolean') throw invalid('a boolean');
      return;
    case PROPERTY.previousSecretHash:
      if (metadata.client_secret !== undefined && !isSecretHash(metadata.client_secret)) {
        throw new errors.InvalidClientMetadata('client_secret must be a secret hash, never the secret');
      }
      if (value !== undefined && !isSecretHash(value)) throw invalid('a secret hash, never the secret');
      if ((value === undefined) !== (metadata[PROPERTY.previousSecretExpiresAt] === undefined)) {
        throw invalid(`given together with ${PROPERTY.previousSecretExpiresAt}`);
      }
      return;
    case PROPERTY.previousSecretExpiresAt:
      if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) throw invalid('epoch seconds');
      return;
    default:
      throw new errors.InvalidClientMetadata(`${key} is not a Latchkey client property`);
  }
}

export function toClientMetadata(client: Client): ClientMetadata {
  const codeFlow = client.grantTypes.includes('authorization_code');
  const metadata: ClientMetadata = {
    client_id: client.clientId,
    client_name: client.name,
    grant_types: client.grantTypes,
    response_types: codeFlow ? ['code'] : [],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    id_token_signed_response_alg: client.idTokenAlg,
    // oidc-provider lets only native clients use private-use schemes (RFC 8252).
    application_type: [...client.redirectUris, ...client.postLogoutRedirectUris]
      .some((uri) => PRIVATE_USE_SCHEME.test(new URL(uri).protocol)) ? 'native' : 'web',
    // OIDC scopes only: API scopes are granted per API and checked in
    // server/oidc/resources.ts (oidc-provider validates this list against its static scopes).
    scope: codeFlow ? OIDC_SCOPES.join(' ') : undefined,
    ...latchkeyMetadata({
      apis: client.apis,
      firstParty: client.firstParty,
      requireMfa: client.requireMfa,
      trustedDevices: client.trustedDevices,
      previousSecretHash: client.previousSecretHash,
      // Epoch seconds, rounded down: the grace period never runs longer than set.
      previousSecretExpiresAt: client.previousSecretExpiresAt && Math.floor(client.previousSecretExpiresAt.getTime() / 1000),
    }),
  };
  if (client.secretHash) {
    // oidc-provider needs a client_secret for the secret auth methods. It gets
    // the keyed hash; compareClientSecret (server/oidc/internals.ts) checks a
    // presented secret against it. Symmetric uses of client_secret
    // (client_secret_jwt, HS256, symmetric encryption) are disabled in
    // server/oidc/algorithms.ts, so the hash is never used as a key.
    // Dynamic registration, the only oidc-provider endpoint that answers
    // with a client's metadata, is off: no hash leaves the server.
    metadata.client_secret = client.secretHash;
  }
  if (client.jwks) metadata.jwks = client.jwks as ClientMetadata['jwks'];
  return metadata;
}
