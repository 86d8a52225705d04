// Rules a client registration must satisfy before it is stored. Every check
// throws a UserError whose one-line message says what to change and why.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { UserError } from '../errors.ts';
import {
  AUTH_METHODS, GRANT_TYPES, ID_TOKEN_ALGS,
  type AuthMethod, type Client, type ClientChanges, type GrantType, type IdTokenAlg, type NewClient,
} from './types.ts';
import { LOOPBACK_HOSTS, PRIVATE_JWK_MEMBERS, PRIVATE_USE_SCHEME } from '../protocol/constants.ts';

const REFUSED_GRANTS: Record<string, string> = {
  password: 'the password grant is refused: it hands user passwords to the client and is removed by OAuth 2.1; use authorization_code with PKCE',
  implicit: 'the implicit grant is refused: it leaks tokens in URLs and is removed by OAuth 2.1; use authorization_code with PKCE',
};

/** Absolute, no fragment; https, or http on loopback only, or a native app's reverse-domain scheme. */
export function validateRedirectUri(uri: string, label = 'redirect URI'): string {
  let url: URL;
  try {
    if (/\s/.test(uri)) throw new Error('space');
    url = new URL(uri);
  } catch {
    throw new UserError(`${label} "${uri}" must be an absolute URI such as https://app.example.com/callback`);
  }
  if (uri.includes('#')) throw new UserError(`${label} ${uri} must not contain a fragment (#...)`);
  if (url.username || url.password) throw new UserError(`${label} ${uri} must not contain a user name or password`);
  if (url.protocol === 'https:') return uri;
  if (url.protocol === 'http:') {
    if (LOOPBACK_HOSTS.has(url.hostname)) return uri;
    throw new UserError(`${label} ${uri} must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])`);
  }
  if (PRIVATE_USE_SCHEME.test(url.protocol)) return uri;
  throw new UserError(`${label} ${uri} uses the scheme "${url.protocol}"; use https, or a reverse-domain scheme for native apps such as com.example.app:/callback`);
}

/**
 * A client with a private-use scheme URI is a native app (RFC 8252), and
 * oidc-provider holds all its URIs to native rules: claimed https URIs must
 * not be loopback (loopback is plain http, where any port matches, §7.3).
 */
export function validateNativeRedirectUris(uris: string[]): void {
  const parsed = uris.map((uri) => new URL(uri));
  if (!parsed.some((url) => PRIVATE_USE_SCHEME.test(url.protocol))) return;
  const loopbackHttps = parsed.find((url) => url.protocol === 'https:' && LOOPBACK_HOSTS.has(url.hostname));
  if (loopbackHttps) {
    throw new UserError(`native app redirect URI ${loopbackHttps.href} must use http for loopback (RFC 8252 §7.3), or a non-loopback https host`);
  }
}

export function parseGrantTypes(values: string[]): GrantType[] {
  const grants = new Set<GrantType>();
  for (const value of values) {
    if (REFUSED_GRANTS[value]) throw new UserError(REFUSED_GRANTS[value]);
    if (!(GRANT_TYPES as readonly string[]).includes(value)) {
      throw new UserError(`unknown grant "${value}" (use ${GRANT_TYPES.join(', ')})`);
    }
    grants.add(value as GrantType);
  }
  return [...grants];
}

export function parseIdTokenAlg(value: string): IdTokenAlg {
  if (!(ID_TOKEN_ALGS as readonly string[]).includes(value)) {
    throw new UserError(`unknown ID token algorithm "${value}" (use ${ID_TOKEN_ALGS.join(' or ')})`);
  }
  return value as IdTokenAlg;
}

export function parseAuthMethod(value: string): AuthMethod {
  if (!(AUTH_METHODS as readonly string[]).includes(value)) {
    throw new UserError(`unknown client authentication "${value}" (use ${AUTH_METHODS.filter((m) => m !== 'none').join(', ')}, or --public)`);
  }
  return value as AuthMethod;
}

/** A JWKS document of public keys for private_key_jwt (JSON text, e.g. a file's content). */
export function parseJwks(text: string, source = 'JWKS'): { keys: object[] } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new UserError(`${source} is not valid JSON`);
  }
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new UserError(`${source} must be a JSON object {"keys": [...]} with at least one key`);
  keys.forEach((key, index) => validatePublicJwk(key, `${source} key ${index + 1}`));
  return { keys: keys as object[] };
}

function validatePublicJwk(key: unknown, label: string): void {
  if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new UserError(`${label} is not a JSON object`);
  const jwk = key as Record<string, unknown>;
  const secretMember = PRIVATE_JWK_MEMBERS.find((member) => member in jwk);
  if (secretMember) {
    throw new UserError(`${label} contains the private member "${secretMember}"; register only public keys (the client keeps its private key)`);
  }
  if (!['RSA', 'EC', 'OKP'].includes(jwk.kty as string)) throw new UserError(`${label} must be an RSA, EC or OKP public key (kty)`);
  try {
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    throw new UserError(`${label} is not a valid ${jwk.kty} public key`);
  }
}

/** Cross-field rules of a whole registration. */
export function validateNewClient(client: NewClient): void {
  const grants = new Set(client.grantTypes);
  if (!client.name.trim()) throw new UserError('a client needs a name');
  if (grants.size === 0) throw new UserError(`a client needs at least one grant (${GRANT_TYPES.join(', ')})`);
  if (grants.has('refresh_token') && !grants.has('authorization_code')) {
    throw new UserError('refresh_token needs authorization_code (refresh tokens are only issued to sign-in flows)');
  }
  if (grants.has('authorization_code') && client.redirectUris.length === 0) {
    throw new UserError('authorization_code needs at least one --redirect-uri');
  }
  if (!grants.has('authorization_code') && (client.redirectUris.length || client.postLogoutRedirectUris.length)) {
    throw new UserError('redirect URIs are only used by authorization_code; add --grant authorization_code or drop them');
  }
  client.redirectUris.forEach((uri) => validateRedirectUri(uri));
  client.postLogoutRedirectUris.forEach((uri) => validateRedirectUri(uri, 'post-logout redirect URI'));
  validateNativeRedirectUris([...client.redirectUris, ...client.postLogoutRedirectUris]);
  if (client.tokenEndpointAuthMethod === 'none' && grants.has('client_credentials')) {
    throw new UserError('a public client cannot use client_credentials (it has no credentials to prove who it is)');
  }
  if (client.tokenEndpointAuthMethod === 'private_key_jwt' && !client.jwks) {
    throw new UserError('private_key_jwt needs the client\'s public keys: --jwks-file <path>');
  }
  if (client.tokenEndpointAuthMethod !== 'private_key_jwt' && client.jwks) {
    throw new UserError('--jwks-file is only used with --auth private_key_jwt');
  }
}

/**
 * Rules for `clients update`: the client as it would be after the changes
 * must pass the same checks as a new registration (validateNewClient).
 */
export function validateClientChanges(client: Client, changes: ClientChanges): void {
  validateNewClient({
    name: changes.name ?? client.name,
    grantTypes: client.grantTypes,
    redirectUris: changes.redirectUris ?? client.redirectUris,
    postLogoutRedirectUris: changes.postLogoutRedirectUris ?? client.postLogoutRedirectUris,
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    jwks: client.jwks,
    firstParty: changes.firstParty ?? client.firstParty,
    requireMfa: changes.requireMfa ?? client.requireMfa,
    trustedDevices: changes.trustedDevices ?? client.trustedDevices,
    idTokenAlg: client.idTokenAlg,
    apis: client.apis,
  });
}

/** Confidential clients that authenticate with a shared secret get one generated. */
export const usesClientSecret = (method: AuthMethod): boolean =>
  method === 'client_secret_basic' || method === 'client_secret_post';
