// Protocol constants shared by the CLI's validation and the provider setup.

/** OpenID Connect scopes Latchkey serves (their claims: server/oidc/find-account.ts). */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** Standard OpenID Connect scope names: never an API scope, served or not. */
export const RESERVED_SCOPES = new Set([...OIDC_SCOPES, 'address', 'phone']);

/**
 * The algorithms Latchkey signs with (it keeps a key for each: keys/key-store.ts),
 * and so the ones tokens, ID tokens and responses may carry. ES256 signs by
 * default (access tokens, ID tokens); RS256 serves clients that support
 * nothing else (`clients create --id-token-alg RS256`).
 */
export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const DEFAULT_SIGNING_ALG: SigningAlg = 'ES256';

/** Hosts where plain http is acceptable (RFC 8252 §7.3, and local development). */
export const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** RFC 8252 §7.1: a native app's private-use URI scheme is a reverse domain name (com.example.app:). */
// eslint-disable-next-line security/detect-unsafe-regex -- each repetition starts with '.', which the class cannot match: linear
export const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

/** JWK members that only a private or symmetric key has (never published, never accepted as a client's public key). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
