// needs: postgres redis
// The authorization code flow with PKCE end to end: openid-client builds the
// request and redeems the code, the scripted browser signs in on the hosted
// pages (password, then consent unless the client is first-party).
import test from 'ava';
import * as jose from 'jose';
import * as client from 'openid-client';
import { parseForm, ScriptedBrowser, signIn } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  authorizationRequest, createCodeClient, createUser, discover, eventually, now, oauthError, REDIRECT_URI, type TestUser,
} from './support.ts';

const API = 'https://orders.internal';
const API_TTL = 180;

let server: RunningServer;

test.before(async () => {
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'orders:read orders:write', '--ttl', String(API_TTL)]);
});

test.after.always(async () => {
  await server?.stop();
});

/** A confidential code-flow client and its openid-client configuration. */
async function codeClient(name: string, extra: string[] = []) {
  const created = await createCodeClient(server, name, extra);
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  return { clientId: created.client_id, config };
}

/** Opens the authorization URL and signs in with the password form; returns the next step. */
async function passwordStep(browser: ScriptedBrowser, url: URL, user: TestUser) {
  const login = await browser.follow(url.toString());
  if (!/name="password"/.test(login.html)) throw new Error(`expected the sign-in page, got ${login.url} (${login.response.status})`);
  const { action, fields } = parseForm(login.html, /\/login$/);
  return browser.follow(action, { method: 'POST', form: { ...fields, email: user.email, password: user.password } });
}

test('non-first-party client: sign in, consent page shown and approved, tokens and userinfo', async (t) => {
  const user = await createUser(server, 'consenting', { emailVerified: true });
  const { clientId, config } = await codeClient('Third-party app');
  const request = await authorizationRequest(config, { scope: 'openid email profile' });
  t.is(request.url.searchParams.get('code_challenge_method'), 'S256');

  const browser = new ScriptedBrowser(server.issuer);
  const consent = await passwordStep(browser, request.url, user);
  t.is(consent.location, undefined, 'a third-party client must not get a code before consent');
  t.is(consent.response.status, 200);
  t.regex(consent.url, /\/interaction\/[^/]+$/);
  t.regex(consent.html, /Third-party app/);
  t.regex(consent.html, /\/consent"/);
  const { action, fields } = parseForm(consent.html, /\/consent$/);
  const back = await browser.follow(action, { method: 'POST', form: fields });
  t.truthy(back.location, 'approving consent returns to the client');
  const callback = new URL(back.location!);
  t.is(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  t.is(callback.searchParams.get('state'), request.state);
  t.is(callback.searchParams.get('iss'), server.issuer);
  t.truthy(callback.searchParams.get('code'));

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.is(tokens.refresh_token, undefined, 'no refresh token for a client not registered with refresh_token');
  const claims = tokens.claims()!;
  t.is(claims.sub, user.id);
  t.is(claims.nonce, request.nonce);
  t.is(claims.iss, server.issuer);
  t.is(claims.aud, clientId);
  t.true(claims.exp > now());
  // OpenID Connect Core §5.4 (conformIdTokenClaims): when an access token is
  // issued, the scope claims are served at userinfo, not copied into the ID token.
  for (const claim of ['email', 'name']) t.false(claim in claims, `${claim} in the ID token`);

  // The ID token is signed with a key from /jwks (openid-client checked it; check the header too).
  const idToken = await jose.jwtVerify(tokens.id_token!, jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, audience: clientId });
  t.true(['ES256', 'RS256'].includes(idToken.protectedHeader.alg), `ID token alg ${idToken.protectedHeader.alg}`);

  // The access token is the userinfo token: claims per the granted scopes.
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(userinfo.sub, user.id);
  t.is(userinfo.email, user.email);
  t.is(userinfo.email_verified, true);
  t.is(userinfo.name, user.name);
  t.is(typeof userinfo.updated_at, 'number');

  // The grant is remembered: the same request again goes straight back (no consent page).
  const again = await authorizationRequest(config, { scope: 'openid email profile' });
  const second = await browser.follow(again.url.toString());
  t.truthy(second.location, 'consent was remembered for this client');
  t.truthy(new URL(second.location!).searchParams.get('code'));
});

test('ID token and userinfo carry only what the scopes ask for', async (t) => {
  const user = await createUser(server, 'minimal');
  const { config } = await codeClient('Minimal app', ['--first-party']);
  const request = await authorizationRequest(config, { scope: 'openid' });
  const callback = await signIn(new ScriptedBrowser(server.issuer), request.url.toString(), user);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  t.is(claims.sub, user.id);
  t.is(claims.nonce, request.nonce);
  for (const claim of ['email', 'email_verified', 'name']) t.false(claim in claims, `${claim} without its scope`);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, user.id);
  t.deepEqual(Object.keys(userinfo), ['sub']);
});

test('first-party client: consent is skipped', async (t) => {
  const user = await createUser(server, 'firstparty');
  const { clientId, config } = await codeClient('First-party app', ['--first-party']);
  const request = await authorizationRequest(config, { scope: 'openid email' });
  const browser = new ScriptedBrowser(server.issuer);
  const afterLogin = await passwordStep(browser, request.url, user);
  t.truthy(afterLogin.location, `expected a redirect to the client right after sign-in, got page ${afterLogin.url}:\n${afterLogin.html.slice(0, 500)}`);
  const callback = new URL(afterLogin.location!);
  t.is(callback.searchParams.get('iss'), server.issuer);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.claims()!.sub, user.id);
  t.is(tokens.claims()!.aud, clientId);
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, user.id);
  t.is(userinfo.email, user.email);
  t.is(userinfo.email_verified, false);
  t.false('name' in userinfo, 'profile was not requested');
});

test('clients update --no-first-party on the running server: consent is asked from then on', async (t) => {
  const user = await createUser(server, 'turned');
  const { clientId, config } = await codeClient('Turned third-party app', ['--first-party']);
  const signInOnce = async () => passwordStep(new ScriptedBrowser(server.issuer), (await authorizationRequest(config, { scope: 'openid' })).url, user);
  t.truthy((await signInOnce()).location, 'first-party: straight back to the client');
  await server.admin(['clients', 'update', clientId, '--no-first-party']);
  const consent = await eventually('consent asked', async () => {
    const page = await signInOnce();
    return page.location === undefined && /\/consent"/.test(page.html) ? page : undefined;
  });
  t.regex(consent.html, /Turned third-party app/);
});

test('resource=<api>: the user access token is a JWT for the API', async (t) => {
  const user = await createUser(server, 'resource');
  const { clientId, config } = await codeClient('Orders web app', ['--api', API, '--scope', 'orders:read']);
  const request = await authorizationRequest(config, { scope: 'openid orders:read', resource: API });
  const browser = new ScriptedBrowser(server.issuer);
  const consent = await passwordStep(browser, request.url, user);
  t.regex(consent.html, /orders:read|orders\.internal/, 'the consent page names the API access asked for');
  const { action, fields } = parseForm(consent.html, /\/consent$/);
  const back = await browser.follow(action, { method: 'POST', form: fields });
  const tokens = await client.authorizationCodeGrant(config, new URL(back.location!), {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.claims()!.sub, user.id);
  t.is(tokens.expires_in, API_TTL);

  const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
    issuer: server.issuer, audience: API, typ: 'at+jwt',
  });
  t.is(protectedHeader.alg, 'ES256');
  t.is(payload.aud, API);
  t.is(payload.sub, user.id);
  t.is(payload.client_id, clientId);
  t.is(payload.scope, 'orders:read');
  t.is(payload.exp! - payload.iat!, API_TTL);
});

test('resource=<api> the client was not granted is refused', async (t) => {
  const { config } = await codeClient('No API app', ['--first-party']);
  const request = await authorizationRequest(config, { scope: 'openid', resource: API });
  const step = await new ScriptedBrowser(server.issuer).follow(request.url.toString());
  t.truthy(step.location, 'the error goes back to the client');
  const callback = new URL(step.location!);
  t.is(callback.searchParams.get('error'), 'invalid_target');
  t.is(callback.searchParams.get('state'), request.state);
});

test('deny on the consent page: access_denied back at the client, with iss', async (t) => {
  const user = await createUser(server, 'denying');
  const { config } = await codeClient('Denied app');
  const request = await authorizationRequest(config, { scope: 'openid email' });
  const callback = await signIn(new ScriptedBrowser(server.issuer), request.url.toString(), { ...user, consent: false });
  t.is(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  t.is(callback.searchParams.get('error'), 'access_denied');
  t.is(callback.searchParams.get('iss'), server.issuer);
  t.is(callback.searchParams.get('state'), request.state);
  t.is(callback.searchParams.get('code'), null);
  // openid-client validates iss and state, then surfaces the error.
  t.is(await oauthError(client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce,
  })), 'access_denied');
});

test.serial('a disabled user cannot sign in; enabled again, they can', async (t) => {
  const user = await createUser(server, 'disabled');
  const { config } = await codeClient('Disabled user app', ['--first-party']);
  const before = await authorizationRequest(config, { scope: 'openid email' });
  const earlier = await client.authorizationCodeGrant(config, await signIn(new ScriptedBrowser(server.issuer), before.url.toString(), user), {
    pkceCodeVerifier: before.codeVerifier, expectedState: before.state, expectedNonce: before.nonce, idTokenExpected: true,
  });
  const disabled = await server.admin<{ disabled: boolean }>(['users', 'disable', user.email]);
  t.true(disabled.disabled);
  // A token issued before the account was disabled no longer reaches its claims.
  t.is(await oauthError(client.fetchUserInfo(config, earlier.access_token, user.id)), 'invalid_token');

  const request = await authorizationRequest(config, { scope: 'openid' });
  const browser = new ScriptedBrowser(server.issuer);
  const refused = await passwordStep(browser, request.url, user);
  t.is(refused.location, undefined, 'no redirect back to the client');
  t.is(refused.response.status, 401);
  t.regex(refused.html, /name="password"/);
  t.regex(refused.html, /The email or password is not correct\./);

  await server.admin(['users', 'enable', user.id]);
  const retry = parseForm(refused.html, /\/login$/);
  const accepted = await browser.follow(retry.action, { method: 'POST', form: { ...retry.fields, email: user.email, password: user.password } });
  t.truthy(accepted.location);
  const tokens = await client.authorizationCodeGrant(config, new URL(accepted.location!), {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.claims()!.sub, user.id);
});

test.serial('a session of a user disabled since sign-in no longer works (prompt=none: login_required)', async (t) => {
  const user = await createUser(server, 'session-disabled');
  const { config } = await codeClient('Session app', ['--first-party']);
  const browser = new ScriptedBrowser(server.issuer);
  const first = await authorizationRequest(config, { scope: 'openid' });
  await signIn(browser, first.url.toString(), user);
  const silent = async () => {
    const request = await authorizationRequest(config, { scope: 'openid', prompt: 'none' });
    const step = await browser.follow(request.url.toString());
    return new URL(step.location!);
  };
  t.truthy((await silent()).searchParams.get('code'), 'the session works before');
  await server.admin(['users', 'disable', user.id]);
  const after = await silent();
  t.is(after.searchParams.get('error'), 'login_required');
  t.is(after.searchParams.get('code'), null);
});

test('ID tokens are ES256 by default, RS256 for clients registered with --id-token-alg RS256', async (t) => {
  const user = await createUser(server, 'algs');
  for (const [extra, alg] of [[[], 'ES256'], [['--id-token-alg', 'RS256'], 'RS256']] as const) {
    const { config } = await codeClient(`ID token ${alg} app`, ['--first-party', ...extra]);
    const request = await authorizationRequest(config, { scope: 'openid' });
    const callback = await signIn(new ScriptedBrowser(server.issuer), request.url.toString(), user);
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
    });
    t.is(jose.decodeProtectedHeader(tokens.id_token!).alg, alg);
  }
  const refused = await server.cli(['clients', 'create', '--name', 'HS app', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example.com/cb', '--id-token-alg', 'HS256']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /unknown ID token algorithm "HS256" \(use ES256 or RS256\)/);
});

test('a wrong PKCE code_verifier cannot redeem the code', async (t) => {
  const user = await createUser(server, 'pkce');
  const { config } = await codeClient('PKCE app', ['--first-party']);
  const request = await authorizationRequest(config, { scope: 'openid' });
  const callback = await signIn(new ScriptedBrowser(server.issuer), request.url.toString(), user);
  t.is(await oauthError(client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: request.state, expectedNonce: request.nonce,
  })), 'invalid_grant');
});
