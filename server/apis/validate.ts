// Rules for registering an API: its identifier (the `aud` / RFC 8707 resource),
// its scopes, and its access token lifetime. Each check throws a one-line UserError.
import { formatDuration, parseDuration } from '../config/duration.ts';
import { UserError } from '../errors.ts';
import { LOOPBACK_HOSTS, RESERVED_SCOPES } from '../protocol/constants.ts';

// RFC 6749 §3.3: scope-token = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// OpenID Connect's own scopes are granted by the provider, never by an API.
const MIN_TTL = 1;
const MAX_TTL = 24 * 3600;

/** True for http hosts that never leave the machine or a private network. */
export function isLocalHttpHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.internal') || hostname.endsWith('.local');
}

/** An absolute URI without fragment; plain http only for loopback and *.internal / *.local hosts. */
export function validateApiIdentifier(identifier: string): string {
  if (identifier !== identifier.trim() || /\s/.test(identifier)) {
    throw new UserError(`API identifier "${identifier}" must not contain spaces`);
  }
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    throw new UserError(`API identifier "${identifier}" must be an absolute URI such as https://api.example.com`);
  }
  // RFC 8707 §2: a resource indicator must not include a fragment.
  if (identifier.includes('#')) throw new UserError(`API identifier ${identifier} must not contain a fragment (#...)`);
  if (url.protocol === 'http:' && !isLocalHttpHost(url.hostname)) {
    throw new UserError(`API identifier ${identifier} must use https (http is allowed only for localhost and *.internal / *.local hosts)`);
  }
  return identifier;
}

/** Splits a space-separated scope list, checks each token, drops duplicates. */
export function parseScopes(input: string): string[] {
  const scopes = input.split(/\s+/).filter(Boolean);
  scopes.forEach(validateScopeToken);
  return [...new Set(scopes)];
}

export function validateScopeToken(scope: string): void {
  if (!SCOPE_TOKEN.test(scope)) {
    throw new UserError(`scope "${scope}" may only use printable ASCII without spaces, " or \\ (RFC 6749 §3.3)`);
  }
}

/** Scopes an API may define: valid tokens that are not OpenID Connect's. */
export function validateApiScopes(scopes: string[]): string[] {
  for (const scope of scopes) {
    validateScopeToken(scope);
    if (RESERVED_SCOPES.has(scope)) throw new UserError(`scope "${scope}" belongs to OpenID Connect and cannot be an API scope`);
  }
  return [...new Set(scopes)];
}

/** Access token lifetime from "300", "5m", "1h": between 1 s and 24 h. */
export function parseAccessTokenTtl(input: string): number {
  let seconds: number;
  try {
    seconds = parseDuration(input);
  } catch (error) {
    throw new UserError(`--ttl ${(error as Error).message}`);
  }
  validateAccessTokenTtl(seconds);
  return seconds;
}

export function validateAccessTokenTtl(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_TTL || seconds > MAX_TTL) {
    throw new UserError(`access token lifetime must be between ${formatDuration(MIN_TTL)} and ${formatDuration(MAX_TTL)} (got ${seconds}s)`);
  }
}
