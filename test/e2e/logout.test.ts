// needs: postgres redis
// RP-initiated logout end to end: openid-client builds the end-session URL
// with id_token_hint and a registered post_logout_redirect_uri, the user
// confirms on the logout page, and the sign-in session is gone afterwards.
import test from 'ava';
import * as client from 'openid-client';
import { parseForm, ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  authorizationRequest, codeFlow, createCodeClient, createUser, discover, POST_LOGOUT_REDIRECT_URI, REDIRECT_URI, type TestUser,
} from './support.ts';

let server: RunningServer;
let config: client.Configuration;

test.before(async () => {
  server = await startServer();
  const created = await createCodeClient(server, 'Logout app', ['--first-party', '--post-logout-redirect-uri', POST_LOGOUT_REDIRECT_URI]);
  config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
});

test.after.always(async () => {
  await server?.stop();
});

/** A prompt=none authorization request in `browser`: where the server sends it back. */
async function silentAuthorization(browser: ScriptedBrowser) {
  const request = await authorizationRequest(config, { scope: 'openid', prompt: 'none' });
  const step = await browser.follow(request.url.toString());
  if (!step.location) throw new Error(`prompt=none showed a page (${step.response.status} ${step.url})`);
  const callback = new URL(step.location);
  if (`${callback.origin}${callback.pathname}` !== REDIRECT_URI) throw new Error(`prompt=none went to ${callback}`);
  return { callback, state: request.state };
}

async function signedInBrowser(user: TestUser) {
  const { tokens, browser } = await codeFlow(server, config, user, { scope: 'openid' });
  return { idToken: tokens.id_token!, browser };
}

test('logout with id_token_hint: confirmation page, redirect with state, session ended', async (t) => {
  const user = await createUser(server, 'logout');
  const { idToken, browser } = await signedInBrowser(user);

  // The session works before logout: prompt=none gets a code silently.
  const before = await silentAuthorization(browser);
  t.truthy(before.callback.searchParams.get('code'));
  const sessionCookies = new Map(browser.cookies);

  const state = client.randomState();
  const endSession = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state });
  t.is(endSession.pathname, '/session/end');

  const page = await browser.follow(endSession.toString());
  t.is(page.response.status, 200);
  t.is(page.location, undefined, 'logout asks for confirmation first');
  t.regex(page.html, /id="op\.logoutForm"/);
  t.regex(page.html, /Logout app/, 'the page names the client asking');
  const { action, fields } = parseForm(page.html, /\/session\/end\/confirm$/);
  t.truthy(fields.xsrf, "oidc-provider's form carries its xsrf field");

  const confirmed = await browser.follow(action, { method: 'POST', form: { ...fields, logout: 'yes' } });
  t.truthy(confirmed.location, 'confirming returns to the client');
  const back = new URL(confirmed.location!);
  t.is(`${back.origin}${back.pathname}`, POST_LOGOUT_REDIRECT_URI);
  t.is(back.searchParams.get('state'), state);

  // The same browser is signed out...
  const after = await silentAuthorization(browser);
  t.is(after.callback.searchParams.get('error'), 'login_required');
  t.is(after.callback.searchParams.get('state'), after.state);
  t.is(after.callback.searchParams.get('iss'), server.issuer);
  t.is(after.callback.searchParams.get('code'), null);

  // ...and replaying the cookies from before the logout does not bring the session back.
  const replay = new ScriptedBrowser(server.issuer);
  for (const [name, value] of sessionCookies) replay.cookies.set(name, value);
  const replayed = await silentAuthorization(replay);
  t.is(replayed.callback.searchParams.get('error'), 'login_required');
  t.is(replayed.callback.searchParams.get('code'), null);
});

test('an unregistered post_logout_redirect_uri is not followed', async (t) => {
  const user = await createUser(server, 'logout-unregistered');
  const { idToken, browser } = await signedInBrowser(user);
  const endSession = client.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/after-logout' });
  const page = await browser.follow(endSession.toString());
  t.is(page.location, undefined, 'no redirect to an unregistered URI');
  t.is(page.response.status, 400);
  t.notRegex(page.html, /op\.logoutForm/);
  // Still signed in.
  t.truthy((await silentAuthorization(browser)).callback.searchParams.get('code'));
});

test("the account page's sign-out names no app (the built-in client is not one)", async (t) => {
  const user = await createUser(server, 'logout-account');
  const { browser } = await signedInBrowser(user);
  // The account page's "Sign out" link.
  const page = await browser.follow('/session/end?client_id=latchkey-account');
  t.is(page.response.status, 200);
  t.regex(page.html, /Do you want to sign out of [^<]+\?/);
  t.notRegex(page.html, /Account asked/);
  const { action, fields } = parseForm(page.html, /\/session\/end\/confirm$/);
  const done = await browser.follow(action, { method: 'POST', form: { ...fields, logout: 'yes' } });
  t.is(done.location, undefined);
  t.regex(done.html, /You have signed out\./);
  t.notRegex(done.html, /signed out of Account/);
});
