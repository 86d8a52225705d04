// Shared by the hosted-page and session suites of the security checklist
// (C24-C26, C30-C34, C36, C37), which start their server with startServer
// (test/helpers/server-process.ts; `https` and `database` options): a browser that talks to such a server as if
// through a TLS-terminating proxy, and the sign-in flows they share (page
// checks and parsers are in _support-page-checks.ts).
import { createHash, randomBytes } from 'node:crypto';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import type { AdminServer } from '../helpers/oidc-http.ts';

export type { TestDatabase } from '../helpers/services.ts';
/**
 * A ScriptedBrowser for a server whose issuer is https:// but which listens on
 * plain http behind a (simulated) TLS-terminating proxy: URLs on the issuer's
 * origin go to the process over http with `X-Forwarded-Proto: https`.
 */
export class ProxiedBrowser extends ScriptedBrowser {
  readonly transport: string;

  constructor(issuer: string, transport: string) {
    super(new URL(issuer).origin);
    this.transport = transport;
  }

  override request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    if (target.origin === this.origin) {
      const transport = new URL(this.transport);
      target.protocol = transport.protocol;
      target.host = transport.host;
    }
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-proto', 'https');
    return super.request(target.toString(), { ...init, headers });
  }
}

/** A browser for the server: plain for an http issuer, proxied for an https one. */
export const browserFor = (server: { issuer: string; origin?: string }): ScriptedBrowser =>
  server.origin && server.origin !== server.issuer ? new ProxiedBrowser(server.issuer, server.origin) : new ScriptedBrowser(server.issuer);

export { createUser, type AdminServer } from '../helpers/oidc-http.ts';

export const REDIRECT_URI = 'http://localhost:8080/cb';
export const POST_LOGOUT_REDIRECT_URI = 'http://localhost:8080/logged-out';

export interface TestClient {
  client_id: string;
  client_secret: string;
}

export async function createWebClient(server: AdminServer, options: { firstParty?: boolean; name?: string } = {}): Promise<TestClient> {
  return server.admin<TestClient>([
    'clients', 'create', '--name', options.name ?? 'Web App',
    '--grant', 'authorization_code', '--grant', 'refresh_token',
    '--redirect-uri', REDIRECT_URI,
    '--post-logout-redirect-uri', POST_LOGOUT_REDIRECT_URI,
    ...(options.firstParty ? ['--first-party'] : []),
  ]);
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
}


export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** An authorization code request with PKCE S256, state and nonce. */
export function authorizationRequest(issuer: string, clientId: string, extra: Record<string, string> = {}): AuthorizationRequest {
  const state = randomBytes(8).toString('base64url');
  const nonce = randomBytes(8).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url: url.toString(), state, nonce, codeVerifier };
}

/** Opens an authorization request and returns the first hosted page (login, normally). */
export async function openLoginPage(browser: ScriptedBrowser, issuer: string, clientId: string, extra: Record<string, string> = {}) {
  const request = authorizationRequest(issuer, clientId, extra);
  const step = await browser.follow(request.url);
  if (step.location) throw new Error(`expected a hosted page, got a redirect to ${step.location}`);
  const uid = /\/interaction\/([^/?#]+)/.exec(step.url)?.[1];
  if (!uid) throw new Error(`expected an interaction page, got ${step.url} (${step.response.status})`);
  return { ...step, uid, request };
}

/** Signs in through the hosted pages; returns the redirect back to the client. */
export async function signInThroughPages(browser: ScriptedBrowser, issuer: string, clientId: string, user: { email: string; password: string }): Promise<URL> {
  return signIn(browser, authorizationRequest(issuer, clientId).url, { email: user.email, password: user.password });
}

/**
 * An authorization request with prompt=none sent with the browser's cookies:
 * the redirect back to the client (with `code`, or `error` such as login_required).
 */
export async function promptNone(browser: ScriptedBrowser, issuer: string, clientId: string): Promise<URL> {
  const step = await browser.follow(authorizationRequest(issuer, clientId, { prompt: 'none' }).url);
  if (!step.location) throw new Error(`prompt=none did not redirect to the client; got ${step.url} (${step.response.status}):\n${step.html.slice(0, 500)}`);
  return new URL(step.location);
}

/** A separate browser carrying a copy of `browser`'s cookies as they are now. */
export function cloneBrowser(browser: ScriptedBrowser): ScriptedBrowser {
  const copy = browser instanceof ProxiedBrowser ? new ProxiedBrowser(browser.origin, browser.transport) : new ScriptedBrowser(browser.origin);
  for (const [name, value] of browser.cookies) copy.cookies.set(name, value);
  return copy;
}

/** The code flow's token response (for an ID token to use as id_token_hint). */
export async function redeemCode(server: { issuer: string; origin?: string }, client: TestClient, code: string, codeVerifier: string): Promise<Record<string, any>> {
  const response = await fetch(new URL('/token', server.origin ?? server.issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...(server.origin && server.origin !== server.issuer ? { 'x-forwarded-proto': 'https' } : {}),
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: codeVerifier }),
  });
  const body = await response.json() as Record<string, any>;
  if (!response.ok) throw new Error(`token request failed (${response.status}): ${JSON.stringify(body)}`);
  return body;
}
