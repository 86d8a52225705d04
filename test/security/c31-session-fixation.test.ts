// needs: postgres redis
// C31 no session fixation: a session cookie planted in the browser before
// sign-in (made up, or a genuine anonymous one the attacker fetched for
// himself) is replaced at login, and afterwards gives its holder nothing:
// prompt=none with it answers login_required while the victim's new cookie works.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  authorizationRequest, browserFor, createUser, createWebClient, promptNone, signInThroughPages,
  type TestClient, type TestUser,
} from './_support-pages.ts';

let server: RunningServer;
let client: TestClient;
let user: TestUser;

const SESSION = 'latchkey_session'; // http issuer (the https name, __Host-..., cannot be planted from a sibling host at all)

test.before(async () => {
  server = await startServer();
  client = await createWebClient(server);
  user = await createUser(server);
});
test.after.always(async () => {
  await server?.stop();
});

/** A browser holding only the given cookies. */
function withCookies(cookies: Record<string, string>): ScriptedBrowser {
  const browser = browserFor(server);
  for (const [name, value] of Object.entries(cookies)) browser.cookies.set(name, value);
  return browser;
}

const sessionCookies = (browser: ScriptedBrowser) => Object.fromEntries([...browser.cookies].filter(([name]) => name === SESSION || name === `${SESSION}.sig`));

test('C31 a made-up session cookie is replaced at login and useless afterwards', async (t) => {
  const planted = { [SESSION]: randomBytes(32).toString('base64url'), [`${SESSION}.sig`]: randomBytes(20).toString('base64url') };
  const victim = withCookies(planted);

  const back = await signInThroughPages(victim, server.issuer, client.client_id, user);
  t.truthy(back.searchParams.get('code'), back.toString());
  t.truthy(victim.cookies.get(SESSION), 'the victim has a session cookie after login');
  t.not(victim.cookies.get(SESSION), planted[SESSION], 'the session cookie value changed at login');

  // The victim's own cookie is a working session (so the next check can fail)...
  const ok = await promptNone(withCookies(sessionCookies(victim)), server.issuer, client.client_id);
  t.truthy(ok.searchParams.get('code'), ok.toString());
  // ...and the attacker's planted cookie is not.
  const attacker = await promptNone(withCookies(planted), server.issuer, client.client_id);
  t.is(attacker.searchParams.get('error'), 'login_required', attacker.toString());
  t.is(attacker.searchParams.get('code'), null);
});

test('C31 a genuine anonymous session cookie planted by an attacker is replaced at login and useless afterwards', async (t) => {
  // The attacker gets a real, signed, signed-out session from the server
  // (the logout endpoint keeps one for its xsrf secret)...
  const attacker = browserFor(server);
  const logout = await attacker.follow('/session/end');
  t.is(logout.response.status, 200);
  const planted = sessionCookies(attacker);
  t.truthy(planted[SESSION], 'the attacker obtained a session cookie');
  t.truthy(planted[`${SESSION}.sig`]);

  // ...and plants it in the victim's browser, who then signs in.
  const victim = withCookies(planted);
  const back = await signInThroughPages(victim, server.issuer, client.client_id, user);
  t.truthy(back.searchParams.get('code'), back.toString());
  t.truthy(victim.cookies.get(SESSION));
  t.not(victim.cookies.get(SESSION), planted[SESSION], 'the session id changed at login');

  const ok = await promptNone(withCookies(sessionCookies(victim)), server.issuer, client.client_id);
  t.truthy(ok.searchParams.get('code'), ok.toString());
  const replay = await promptNone(withCookies(planted), server.issuer, client.client_id);
  t.is(replay.searchParams.get('error'), 'login_required', replay.toString());
});

test('C31 the session cookie also changes when a signed-in user signs in again (prompt=login)', async (t) => {
  // A session id seen before a (re-)login, e.g. leaked from an earlier page, must not survive it.
  const browser = browserFor(server);
  await signInThroughPages(browser, server.issuer, client.client_id, user);
  const before = sessionCookies(browser);
  t.truthy(before[SESSION]);
  const again = await signIn(browser, authorizationRequest(server.issuer, client.client_id, { prompt: 'login' }).url, user);
  t.truthy(again.searchParams.get('code'));
  t.not(browser.cookies.get(SESSION), before[SESSION]);
  const old = await promptNone(withCookies(before), server.issuer, client.client_id);
  t.is(old.searchParams.get('error'), 'login_required', old.toString());
});
