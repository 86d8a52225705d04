// needs: postgres redis
// C33 logout and timeouts: after RP-initiated logout the old session cookie
// is dead server-side (prompt=none with a saved copy gives login_required);
// a session unused for SESSION_IDLE_TTL ends; a session in constant use still
// ends SESSION_ABSOLUTE_TTL after sign-in.
//
// Timings (the server counts whole seconds; loginTs is rounded down):
//   idle 3 s: used at t=0, checked at t=4.5 s -> past idle, well before absolute.
//   absolute 8 s: used every 1.5 s until t=6.05 s (each use outlives the 3 s
//   idle from sign-in, so activity does renew the session), checked at
//   t=8.6 s, ~2.5 s after the last use -> only the absolute limit can have
//   ended it. t is measured from the ID token's auth_time (the server's loginTs).
import test from 'ava';
import { decodeJwt } from 'jose';
import { signIn, type ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { authorizationRequest, browserFor, cloneBrowser, createUser, createWebClient, POST_LOGOUT_REDIRECT_URI, promptNone, redeemCode, type TestClient, type TestUser } from './_support-pages.ts';
import { logOut, sleep } from './_support-page-checks.ts';

const IDLE_SECONDS = 3;
const ABSOLUTE_SECONDS = 8;

let server: RunningServer;
let client: TestClient;
let user: TestUser;

test.before(async () => {
  server = await startServer({ env: { SESSION_IDLE_TTL: `${IDLE_SECONDS}s`, SESSION_ABSOLUTE_TTL: `${ABSOLUTE_SECONDS}s` } });
  client = await createWebClient(server, { firstParty: true });
  user = await createUser(server);
});
test.after.always(async () => {
  await server?.stop();
});

/**
 * Signs in and returns the session's sign-in time: the ID token's auth_time
 * (whole seconds, the server's loginTs). `start` is the wall clock right
 * after sign-in, for the idle test.
 */
async function signedIn(): Promise<{ browser: ScriptedBrowser; authTime: number; start: number }> {
  const browser = browserFor(server);
  // max_age (far above these tests' timings) makes the ID token carry auth_time.
  const request = authorizationRequest(server.issuer, client.client_id, { max_age: '3600' });
  const back = await signIn(browser, request.url, user);
  const start = Date.now();
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`sign-in failed: ${back}`);
  const { id_token } = await redeemCode(server, client, code, request.codeVerifier);
  const authTime = decodeJwt(id_token).auth_time;
  if (typeof authTime !== 'number') throw new Error('no auth_time in the ID token');
  return { browser, authTime, start };
}

/** Sleeps until `authTime + seconds` (wall clock). */
const until = (authTime: number, seconds: number) => sleep(Math.max(0, (authTime + seconds) * 1000 - Date.now()));
const since = (authTime: number) => (Date.now() / 1000 - authTime).toFixed(2);

const silent = async (browser: ScriptedBrowser) => promptNone(browser, server.issuer, client.client_id);

test('C33 after RP-initiated logout the old session cookie with prompt=none gives login_required', async (t) => {
  const browser = browserFor(server);
  const request = authorizationRequest(server.issuer, client.client_id);
  const back = await signIn(browser, request.url, user);
  const tokens = await redeemCode(server, client, back.searchParams.get('code')!, request.codeVerifier);
  t.truthy(tokens.id_token);

  // A copy of the cookies as they are before logout (what a thief or a shared
  // computer would still hold); it works now...
  const stolen = cloneBrowser(browser);
  const before = await silent(stolen);
  t.truthy(before.searchParams.get('code'), before.toString());

  const { done } = await logOut(browser, server.issuer, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state: 'bye',
  });
  t.truthy(done.location, 'logout returns to the client');
  const returned = new URL(done.location!);
  t.is(`${returned.origin}${returned.pathname}`, POST_LOGOUT_REDIRECT_URI);
  t.is(returned.searchParams.get('state'), 'bye');

  // ...and not after logout, from the old copy or from the browser itself.
  const after = await silent(stolen);
  t.is(after.searchParams.get('error'), 'login_required', after.toString());
  t.is(after.searchParams.get('code'), null);
  const own = await silent(browser);
  t.is(own.searchParams.get('error'), 'login_required', own.toString());
});

test('C33 a session unused for longer than SESSION_IDLE_TTL ends (prompt=none -> login_required)', async (t) => {
  const { browser, start } = await signedIn();
  const fresh = await silent(browser);
  t.truthy(fresh.searchParams.get('code'), `usable right after sign-in: ${fresh}`);

  await sleep(IDLE_SECONDS * 1000 + 1500);
  t.true(Date.now() - start < (ABSOLUTE_SECONDS - 1.5) * 1000, 'still well inside the absolute lifetime');
  const idle = await silent(browser);
  t.is(idle.searchParams.get('error'), 'login_required', idle.toString());
});

test('C33 a session in constant use ends SESSION_ABSOLUTE_TTL after sign-in (prompt=none -> login_required)', async (t) => {
  const { browser, authTime } = await signedIn();
  // Used every 1.5 s: that renews the idle lifetime, so these work past IDLE_SECONDS after sign-in.
  for (const at of [1.5, 3, 4.5, 6.05]) {
    await until(authTime, at);
    const used = await silent(browser);
    t.truthy(used.searchParams.get('code'), `use ${since(authTime)} s after sign-in: ${used}`);
  }
  t.true(Date.now() / 1000 - authTime < ABSOLUTE_SECONDS - 1, `last use ${since(authTime)} s after sign-in`);
  const lastUse = Date.now();

  await until(authTime, ABSOLUTE_SECONDS + 0.6);
  t.true(Date.now() - lastUse < (IDLE_SECONDS - 0.3) * 1000, 'the idle lifetime has not run out since the last use');
  const expired = await silent(browser);
  t.is(expired.searchParams.get('error'), 'login_required', `${since(authTime)} s after sign-in: ${expired}`);
  t.is(expired.searchParams.get('code'), null);
});

test('C33 just past SESSION_ABSOLUTE_TTL, while the session record still exists, prompt=none answers login_required', async (t) => {
  // The session store keeps a record for whole seconds from its last save:
  // used at auth_time + 5.9 s, the record lives until about auth_time + 8.9 s
  // (min(idle 3 s, 8 - 5 whole seconds left)), so at auth_time + 8.3 s only
  // the absolute-age check can end it.
  // That must still be reported as login_required (OIDC Core 3.1.2.6), as for
  // any other session that needs a new sign-in.
  const { browser, authTime } = await signedIn();
  for (const at of [2, 4, 5.9]) {
    await until(authTime, at);
    const used = await silent(browser);
    t.truthy(used.searchParams.get('code'), `use ${since(authTime)} s after sign-in: ${used}`);
  }
  await until(authTime, ABSOLUTE_SECONDS + 0.3);
  const expired = await silent(browser);
  t.is(expired.searchParams.get('code'), null, `${since(authTime)} s after sign-in the session still works: ${expired}`);
  t.is(expired.searchParams.get('error'), 'login_required', `${since(authTime)} s after sign-in: ${expired}`);
});
