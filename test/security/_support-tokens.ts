// Shared by the token-focused security suites (C12-C29, C41): registering
// clients and users with the real CLI, running the code flow through the
// hosted pages, and talking to /token, /token/introspection,
// /token/revocation and /me with plain fetch (so every status code and error
// body is visible to the tests, nothing is retried or normalised).
import { randomBytes } from 'node:crypto';
import * as http from '../helpers/oidc-http.ts';
import { pkce } from '../helpers/oidc-http.ts';
import type { RunningServer } from '../helpers/server-process.ts';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method: string;
  [key: string]: unknown;
}

export interface User {
  id: string;
  email: string;
  password: string;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or {} when the body was not JSON. */
  body: Record<string, any>;
  text: string;
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

let counter = 0;
/** A name unique within this process (emails, client names). */
export const unique = (label: string): string => `${label}-${process.pid}-${++counter}-${randomBytes(3).toString('hex')}`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function waitFor<T>(check: () => Promise<T>, timeoutMs = 5000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await check();
  while (!value && Date.now() < deadline) {
    await sleep(intervalMs);
    value = await check();
  }
  return value;
}

/**
 * Waits until the server applied every admin change made so far (they reach
 * it within ~1 s, CACHE_REFRESH_INTERVAL, on an idle machine; later on a
 * loaded one). The server reloads clients, keys and APIs together, after any
 * change: once a client created now is known to it, so is everything before.
 * Known means /auth with its redirect URI goes on to sign-in (303) instead of
 * answering an error page itself.
 */
export async function adminChangesApplied(server: RunningServer, timeoutMs = 60_000): Promise<void> {
  const redirectUri = `https://${unique('sentinel')}.example.com/cb`;
  const sentinel = await server.admin<RegisteredClient>(['clients', 'create', '--name', unique('sentinel'), '--public', '--grant', 'authorization_code', '--redirect-uri', redirectUri]);
  const url = new URL('/auth', server.origin);
  url.search = new URLSearchParams({
    client_id: sentinel.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  }).toString();
  const headers = server.issuer.startsWith('https:') ? { 'x-forwarded-proto': 'https' } : undefined;
  const known = await waitFor(async () => (await fetch(url, { headers, redirect: 'manual' })).status === 303, timeoutMs, 100);
  if (!known) throw new Error(`the server did not pick up admin changes within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------- admin CLI

export async function createApi(server: RunningServer, scopes: string, extra: string[] = []): Promise<{ identifier: string; scopes: string[] }> {
  const identifier = `https://${unique('api')}.example.com`;
  return server.admin(['apis', 'create', '--identifier', identifier, '--scope', scopes, ...extra]);
}

/** `clients create` with the given flags; defaults to a confidential code-flow client with refresh tokens. */
export async function createClient(server: RunningServer, flags: string[] = []): Promise<RegisteredClient> {
  const hasGrant = flags.includes('--grant');
  const defaults = hasGrant ? [] : ['--grant', 'authorization_code', '--grant', 'refresh_token'];
  const needsRedirect = (hasGrant ? flags : defaults).some((f, i, all) => all[i - 1] === '--grant' && f === 'authorization_code');
  const redirect = needsRedirect && !flags.includes('--redirect-uri') ? ['--redirect-uri', `https://${unique('app')}.example.com/cb`] : [];
  return server.admin(['clients', 'create', '--name', unique('client'), ...defaults, ...redirect, '--first-party', ...flags]);
}

/** helpers/oidc-http.ts's createUser with this suite's email and password shapes. */
export const createUser = (server: RunningServer, password = `${randomBytes(12).toString('base64url')} horse battery`): Promise<User> =>
  http.createUser(server, { email: `${unique('user')}@example.com`, password });

// ---------------------------------------------------------------- HTTP

/** POSTs a form; `auth` is [client_id, secret] for client_secret_basic. */
export async function postForm(url: string, form: Record<string, string | undefined>, auth?: [string, string], headers: Record<string, string> = {}): Promise<HttpResult> {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value !== undefined) body.set(key, value);
  const all: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers };
  if (auth) all.authorization = basic(auth[0], auth[1]);
  const response = await fetch(url, { method: 'POST', headers: all, body, redirect: 'manual' });
  return toResult(response);
}

/** RFC 6749 §2.3.1: both parts form-urlencoded before base64. */
export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function toResult(response: Response): Promise<HttpResult> {
  const text = await response.text();
  let body: Record<string, any> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Client credentials for postForm: [id, secret] of a client_secret_basic client. */
export const credentials = (client: RegisteredClient): [string, string] => {
  if (!client.client_secret) throw new Error(`client ${client.client_id} has no secret`);
  return [client.client_id, client.client_secret];
};

/** helpers/oidc-http.ts's tokenRequest; `auth` is [client_id, secret] for client_secret_basic. */
export const tokenRequest = (server: RunningServer, form: Record<string, string | undefined>, auth?: [string, string]) =>
  http.tokenRequest(server.issuer, form, auth && { client_id: auth[0], client_secret: auth[1] });

export const introspect = (server: RunningServer, token: string, auth: [string, string], hint?: string) =>
  postForm(`${server.issuer}/token/introspection`, { token, token_type_hint: hint }, auth);

export const revoke = (server: RunningServer, token: string, auth: [string, string], hint?: string) =>
  postForm(`${server.issuer}/token/revocation`, { token, token_type_hint: hint }, auth);

/** True only for a 200 introspection answer with active: true. */
export async function isActive(server: RunningServer, token: string, auth: [string, string]): Promise<boolean> {
  const result = await introspect(server, token, auth);
  if (result.status !== 200) throw new Error(`introspection answered ${result.status}: ${result.text}`);
  return result.body.active === true;
}

export async function userinfo(server: RunningServer, accessToken: string): Promise<HttpResult> {
  const response = await fetch(`${server.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
  return toResult(response);
}

// ---------------------------------------------------------------- code flow

export { pkce, type Pkce } from '../helpers/oidc-http.ts';

export interface CodeOptions {
  scope?: string;
  redirectUri?: string;
  resource?: string;
}

export interface IssuedCode {
  code: string;
  verifier: string;
  redirectUri: string;
}

/** Signs `user` in through the hosted pages and returns the authorization code for `client`. */
export async function obtainCode(server: RunningServer, client: RegisteredClient, user: User, options: CodeOptions = {}): Promise<IssuedCode> {
  const { verifier, challenge } = pkce();
  const redirectUri = options.redirectUri ?? client.redirect_uris[0];
  const state = randomBytes(8).toString('hex');
  const url = new URL(`${server.issuer}/auth`);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: options.scope ?? 'openid',
    state,
    nonce: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.resource ? { resource: options.resource } : {}),
  }).toString();
  const back = await signIn(new ScriptedBrowser(server.issuer), url.toString(), { email: user.email, password: user.password });
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) throw new Error(`no code in redirect ${back}`);
  if (`${back.origin}${back.pathname}` !== redirectUri) throw new Error(`redirected to ${back}, expected ${redirectUri}`);
  return { code, verifier, redirectUri };
}

/** The code grant with client_secret_basic (or client_id in the body for public clients). */
export function redeemCode(server: RunningServer, client: RegisteredClient, issued: IssuedCode, overrides: Record<string, string | undefined> = {}): Promise<HttpResult> {
  const form = {
    grant_type: 'authorization_code',
    code: issued.code,
    redirect_uri: issued.redirectUri,
    code_verifier: issued.verifier,
    ...(client.client_secret ? {} : { client_id: client.client_id }),
    ...overrides,
  };
  return tokenRequest(server, form, client.client_secret ? credentials(client) : undefined);
}

export function refresh(server: RunningServer, client: RegisteredClient, refreshToken: string): Promise<HttpResult> {
  const form = { grant_type: 'refresh_token', refresh_token: refreshToken, ...(client.client_secret ? {} : { client_id: client.client_id }) };
  return tokenRequest(server, form, client.client_secret ? credentials(client) : undefined);
}

/** Code flow end to end; throws unless the token endpoint answered 200. */
export async function signInForTokens(server: RunningServer, client: RegisteredClient, user: User, options: CodeOptions = {}): Promise<TokenSet> {
  const issued = await obtainCode(server, client, user, options);
  const result = await redeemCode(server, client, issued);
  if (result.status !== 200) throw new Error(`code redemption answered ${result.status}: ${result.text}`);
  return result.body as TokenSet;
}

/** Decoded JOSE header and payload of a compact JWS (no verification). */
export function decodeJwt(jwt: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [header, payload] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}
