// Shared by the e2e suites: openid-client configured the way a real relying
// party would be (discovery against the running server), users, the code flow
// through the scripted sign-in pages, and polling for admin changes.
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import * as http from '../helpers/oidc-http.ts';
import type { RunningServer } from '../helpers/server-process.ts';

/** A loopback redirect URI nobody listens on: the scripted browser stops at it. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1:9/signed-out';

/** openid-client's discovery against the test server (plain http on localhost). */
export function discover(server: RunningServer, clientId: string, auth?: client.ClientAuth, metadata?: Partial<client.ClientMetadata>): Promise<client.Configuration> {
  return client.discovery(new URL(server.issuer), clientId, metadata, auth, { execute: [client.allowInsecureRequests] });
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
  password: string;
}

/** A user created with the CLI (`users create --password-stdin`). */
export const createUser = (server: RunningServer, label: string, options: { emailVerified?: boolean } = {}): Promise<TestUser> => http.createUser(server, {
  email: `${label}-${randomBytes(4).toString('hex')}@example.com`,
  name: `Test ${label}`,
  password: `correct horse ${randomBytes(6).toString('hex')} staple`,
  ...options,
});

export interface CodeFlowClient {
  client_id: string;
  client_secret?: string;
}

/** `clients create` for a confidential code-flow client (client_secret_basic). */
export async function createCodeClient(server: RunningServer, name: string, extra: string[] = []): Promise<CodeFlowClient> {
  return server.admin<CodeFlowClient>([
    'clients', 'create', '--name', name, '--grant', 'authorization_code', '--redirect-uri', REDIRECT_URI, ...extra,
  ]);
}

export interface AuthorizationRequest {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** An authorization URL with PKCE S256, state and nonce. */
export async function authorizationRequest(config: client.Configuration, parameters: Record<string, string>): Promise<AuthorizationRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  return { url, codeVerifier, state, nonce };
}

export interface SignedIn {
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  request: AuthorizationRequest;
  browser: ScriptedBrowser;
  /** Where the server sent the browser back (with the code). */
  callback: URL;
}

/** The whole code flow: authorization URL, sign-in pages, code exchange. */
export async function codeFlow(
  server: RunningServer,
  config: client.Configuration,
  user: TestUser,
  parameters: Record<string, string> = {},
  browser = new ScriptedBrowser(server.issuer),
): Promise<SignedIn> {
  const request = await authorizationRequest(config, parameters);
  const callback = await signIn(browser, request.url.toString(), { email: user.email, password: user.password });
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.codeVerifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
    idTokenExpected: true,
  });
  return { tokens, request, browser, callback };
}

/**
 * The OAuth error code of a refused openid-client call: the JSON body's
 * `error` (ResponseBodyError, AuthorizationResponseError) or, for a 401 with
 * a WWW-Authenticate challenge (WWWAuthenticateChallengeError), the challenge's `error`.
 */
export async function errorCode(error: unknown): Promise<string | undefined> {
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) return error.error;
  if (error instanceof client.WWWAuthenticateChallengeError) {
    const fromChallenge = error.cause.map((challenge) => challenge.parameters.error).find(Boolean);
    if (fromChallenge) return fromChallenge;
    const body = await error.response.json().catch(() => undefined) as { error?: unknown } | undefined;
    if (typeof body?.error === 'string') return body.error;
  }
  return undefined;
}

/** Expects the call to be refused with an OAuth error; returns its code. */
export async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const code = await errorCode(error);
    if (code) return code;
    throw error;
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

/**
 * Polls `check` until it returns a value other than undefined (admin changes
 * reach the server within CACHE_REFRESH_INTERVAL); throws the last reason after `timeoutMs`.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not observed within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export const now = (): number => Math.floor(Date.now() / 1000);

