// Shared set-up for the authorization-endpoint security suites (C01-C11,
// C15, C16, C23): one real server per test file with a fixed set of clients,
// a user, PKCE helpers, raw-HTTP helpers for negative cases (nothing hidden
// by a client library) and an openid-client configuration for happy paths.
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import * as http from '../helpers/oidc-http.ts';
import { pkce } from '../helpers/oidc-http.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

/** Registered redirect URIs of the confidential "web" client. */
export const REDIRECT_URI = 'https://app.example.com/callback';
export const REDIRECT_URI_WITH_QUERY = 'https://app.example.com/cb?tenant=acme';
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1:8765/callback';
export const POST_LOGOUT_REDIRECT_URI = 'https://app.example.com/logged-out';
/** The public "spa" client's only redirect URI. */
export const SPA_REDIRECT_URI = 'https://spa.example.com/callback';
export const SPA_POST_LOGOUT_REDIRECT_URI = 'https://spa.example.com/bye';
export const API_IDENTIFIER = 'https://api.example.com';
export const EVIL = 'https://evil.example';

export const USER = { email: 'alice@example.com', name: 'Alice Example', password: 'correct horse battery staple' };

/** Headers a browser sends on a top-level navigation. */
export const BROWSER_HEADERS = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) latchkey-security-tests',
};

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
}

export interface AuthzFixture {
  server: RunningServer;
  issuer: string;
  /** Confidential code-flow client (authorization_code + refresh_token). */
  web: RegisteredClient & { client_secret: string };
  /** Public code-flow client (PKCE only); only with `{ spa: true }`. */
  spa: RegisteredClient;
  /** client_credentials-only machine client for API_IDENTIFIER; only with `{ machine: true }`. */
  machine: RegisteredClient & { client_secret: string };
  stop(): Promise<void>;
}

export interface FixtureOptions {
  /** Register the public SPA client (default false). */
  spa?: boolean;
  /** Register the API and the client_credentials-only client (default false). */
  machine?: boolean;
  /** Create USER (default true). */
  user?: boolean;
}

/**
 * Starts a production-mode server and registers the web client plus what
 * `options` asks for (each CLI run costs about a second, so only what a file needs).
 */
export async function startAuthzFixture(options: FixtureOptions = {}): Promise<AuthzFixture> {
  const server = await startServer();
  try {
    const webClient = server.admin<RegisteredClient & { client_secret: string }>([
      'clients', 'create', '--name', 'Web App',
      '--grant', 'authorization_code', '--grant', 'refresh_token',
      '--redirect-uri', REDIRECT_URI,
      '--redirect-uri', REDIRECT_URI_WITH_QUERY,
      '--redirect-uri', LOOPBACK_REDIRECT_URI,
      '--post-logout-redirect-uri', POST_LOGOUT_REDIRECT_URI,
    ]);
    const spaClient = options.spa
      ? server.admin<RegisteredClient>([
        'clients', 'create', '--name', 'Single Page App', '--public',
        '--grant', 'authorization_code',
        '--redirect-uri', SPA_REDIRECT_URI,
        '--post-logout-redirect-uri', SPA_POST_LOGOUT_REDIRECT_URI,
      ])
      : undefined;
    const machineClient = options.machine
      ? server.admin(['apis', 'create', '--identifier', API_IDENTIFIER, '--scope', 'orders:read orders:write'])
        .then(() => server.admin<RegisteredClient & { client_secret: string }>([
          'clients', 'create', '--name', 'Machine',
          '--grant', 'client_credentials', '--api', API_IDENTIFIER, '--scope', 'orders:read',
        ]))
      : undefined;
    const user = options.user === false
      ? undefined
      : server.admin(['users', 'create', '--email', USER.email, '--name', USER.name, '--password-stdin'], { stdin: `${USER.password}\n` });
    const [web, spa, machine] = await Promise.all([webClient, spaClient, machineClient, user]);
    if (!web.client_secret || (machine && !machine.client_secret)) throw new Error('confidential clients were created without a secret');
    // Admin changes reach the running server within ~1 s.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const absent = (name: string): never => {
      throw new Error(`this test file started its fixture without the ${name} client`);
    };
    return {
      server,
      issuer: server.issuer,
      web,
      get spa() { return spa ?? absent('spa'); },
      get machine() { return machine ?? absent('machine'); },
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export { pkce, type Pkce } from '../helpers/oidc-http.ts';

/** `${issuer}/auth?...` with exactly these parameters (undefined ones left out). */
export function authorizationUrl(issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL('/auth', issuer);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** A valid code-flow request for the web client (override, or drop with undefined, parameters with `extra`). */
export function codeFlowParams(fixture: AuthzFixture, challenge: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    client_id: fixture.web.client_id,
    response_type: 'code',
    scope: 'openid email',
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(12).toString('base64url'),
    ...extra,
  };
}

/** One raw request, no redirect following, browser-like Accept unless overridden. */
export function rawRequest(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(BROWSER_HEADERS);
  for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
  return fetch(url, { ...init, headers, redirect: 'manual' });
}

/**
 * The server refused to redirect: a 400 HTML error page and no Location.
 * Returns the page so callers can check more.
 */
export async function assertErrorPage(t: ExecutionContext, response: Response, label: string): Promise<string> {
  const body = await response.text();
  t.is(response.status, 400, `${label}: status (Location: ${response.headers.get('location')})`);
  t.is(response.headers.get('location'), null, `${label}: must not redirect`);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html\b/, `${label}: error page must be HTML`);
  t.regex(body, /^<!doctype html>/i, `${label}: error page body`);
  t.notRegex(body, /http-equiv=["']?refresh/i, `${label}: no meta refresh`);
  return body;
}

/** Refused without any redirect: a 4xx status and no Location (for endpoints where 404/405 is also fine). */
export async function assertNoRedirect(t: ExecutionContext, response: Response, label: string): Promise<string> {
  const body = await response.text();
  t.true(response.status >= 400 && response.status < 500, `${label}: expected a 4xx refusal, got ${response.status}`);
  t.is(response.headers.get('location'), null, `${label}: must not redirect`);
  t.notRegex(body, /http-equiv=["']?refresh/i, `${label}: no meta refresh`);
  return body;
}

/** Parameters of an authorization response (query, or fragment for implicit-style errors). */
export function responseParams(location: URL): URLSearchParams {
  if (location.hash.length > 1) return new URLSearchParams(location.hash.slice(1));
  return location.searchParams;
}

/** Location of a redirect response, resolved against the issuer; fails the test when absent. */
export function redirectTarget(t: ExecutionContext, response: Response, issuer: string, label: string): URL | undefined {
  const location = response.headers.get('location');
  t.true(response.status >= 300 && response.status < 400, `${label}: expected a redirect, got ${response.status}`);
  if (!location) {
    t.fail(`${label}: no Location header`);
    return undefined;
  }
  return new URL(location, issuer);
}

/** `url` without its query and fragment: compared with a registered redirect URI. */
export const withoutParams = (url: URL): string => `${url.origin}${url.pathname}`;

/**
 * An error sent back to the client's registered redirect URI: the right
 * target, `error`, the request's `state`, and `iss` (RFC 9207).
 */
export function assertRedirectedError(
  t: ExecutionContext,
  response: Response,
  expected: { issuer: string; redirectUri: string; error: string; state?: string },
  label: string,
): URLSearchParams | undefined {
  const target = redirectTarget(t, response, expected.issuer, label);
  if (!target) return undefined;
  t.is(withoutParams(target), expected.redirectUri, `${label}: redirected to the registered redirect_uri`);
  const params = responseParams(target);
  t.is(params.get('error'), expected.error, `${label}: error (${params.get('error_description')})`);
  t.is(params.get('iss'), expected.issuer, `${label}: iss`);
  if (expected.state !== undefined) t.is(params.get('state'), expected.state, `${label}: state`);
  for (const leaked of ['code', 'access_token', 'id_token', 'refresh_token']) {
    t.is(params.get(leaked), null, `${label}: no ${leaked} on an error`);
  }
  return params;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
/** One pass, so "&amp;lt;" stays "&lt;" (byte-exact values). */
const decodeHtml = (text: string) => text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (entity) => ENTITIES[entity]);

/**
 * A response_mode=form_post page: where its form posts and the hidden fields
 * it carries. Undefined when the page has no form.
 */
export function formPostResponse(html: string): { action: string; params: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const params = new URLSearchParams();
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[1])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[1])?.[1];
    if (name !== undefined && /\btype="hidden"/i.test(input[1])) params.append(decodeHtml(name), decodeHtml(value ?? ''));
  }
  return { action: decodeHtml(form[1]), params };
}

export const basicAuth = (client: RegisteredClient): string => http.basicAuth(client.client_id, client.client_secret ?? '');

/** POST /token with the client's credentials (Basic for confidential, client_id in the body for public): helpers/oidc-http.ts's tokenRequest. */
export const tokenRequest = (issuer: string, client: RegisteredClient, body: Record<string, string>): Promise<http.TokenResponse> =>
  http.tokenRequest(issuer, body, client);

/** POST /request (PAR, RFC 9126) with the client's credentials; client_id always in the body. */
export async function parRequest(issuer: string, client: RegisteredClient, body: Record<string, string>): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (client.client_secret) headers.authorization = basicAuth(client);
  const response = await fetch(new URL('/request', issuer), {
    method: 'POST', headers, body: new URLSearchParams({ client_id: client.client_id, ...body }), redirect: 'manual',
  });
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) };
  } catch {
    return { status: response.status, json: { unparsed: text } };
  }
}

/** A browser signed in as USER (the web client's consent given), for requests that need a session. */
export async function signedInBrowser(fixture: AuthzFixture): Promise<ScriptedBrowser> {
  const browser = new ScriptedBrowser(fixture.issuer);
  const { challenge } = pkce();
  const params = codeFlowParams(fixture, challenge);
  const back = await signIn(browser, authorizationUrl(fixture.issuer, params), USER);
  if (!back.searchParams.get('code')) throw new Error(`sign-in did not return a code: ${back}`);
  return browser;
}

/**
 * Runs a code flow (the web client's unless `extra` says otherwise) through
 * the hosted pages, in a fresh browser unless one is given, and returns the
 * code with its PKCE verifier.
 */
export async function obtainCode(
  fixture: AuthzFixture,
  options: { browser?: ScriptedBrowser; extra?: Record<string, string | undefined> } = {},
): Promise<{ code: string; verifier: string; redirectUri: string; callback: URL }> {
  const { verifier, challenge } = pkce();
  const params = codeFlowParams(fixture, challenge, options.extra);
  const callback = await signIn(options.browser ?? new ScriptedBrowser(fixture.issuer), authorizationUrl(fixture.issuer, params), USER);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callback}`);
  return { code, verifier, redirectUri: params.redirect_uri!, callback };
}

/** openid-client configuration for a client (http issuer allowed: tests run on localhost). */
export async function clientConfig(fixture: AuthzFixture, client: RegisteredClient): Promise<oidc.Configuration> {
  const auth = client.client_secret ? oidc.ClientSecretBasic(client.client_secret) : oidc.None();
  return oidc.discovery(new URL(fixture.issuer), client.client_id, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

/** openid-client configuration for the web client. */
export const webClientConfig = (fixture: AuthzFixture): Promise<oidc.Configuration> => clientConfig(fixture, fixture.web);

/** The decoded payload of a JWT, unverified (verification is openid-client's job). */
export function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}
