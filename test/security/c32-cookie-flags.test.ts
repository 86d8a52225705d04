// needs: postgres redis
// C32 cookie flags: every cookie the server sets is HttpOnly with an explicit
// SameSite; with an https issuer every cookie is also Secure and the session
// cookie carries the __Host- prefix (Secure, Path=/, no Domain), as does the
// known-browser cookie a correct password sets (sign-in throttling). Cookies are
// collected over a whole sign-in, a silent re-authentication and a logout.
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { browserFor, createUser, createWebClient, promptNone, signInThroughPages } from './_support-pages.ts';
import { isDeletion, logOut, setCookies, type SetCookie } from './_support-page-checks.ts';

interface Variant {
  server: RunningServer;
  cookies: SetCookie[];
}

const variants: { http?: Variant; https?: Variant } = {};

/** Records every Set-Cookie the browser receives. */
function recordCookies(browser: ScriptedBrowser): SetCookie[] {
  const seen: SetCookie[] = [];
  const request = browser.request.bind(browser);
  browser.request = async (url, init) => {
    const response = await request(url, init);
    seen.push(...setCookies(response));
    return response;
  };
  return seen;
}

async function prepare(https: boolean): Promise<Variant> {
  const server = await startServer({ https });
  const client = await createWebClient(server);
  const user = await createUser(server);
  const browser = browserFor(server);
  const cookies = recordCookies(browser);
  const back = await signInThroughPages(browser, server.issuer, client.client_id, user);
  if (!back.searchParams.get('code')) throw new Error(`sign-in failed: ${back}`);
  await promptNone(browser, server.issuer, client.client_id);
  await logOut(browser, server.issuer, { client_id: client.client_id });
  await browserFor(server).follow('/session/end'); // the signed-out logout page keeps a session for its xsrf secret
  return { server, cookies };
}

test.before(async () => {
  [variants.http, variants.https] = await Promise.all([prepare(false), prepare(true)]);
});
test.after.always(async () => {
  await Promise.all([variants.http?.server.stop(), variants.https?.server.stop()]);
});

const issued = (variant: Variant) => variant.cookies.filter((cookie) => !isDeletion(cookie));
const names = (cookies: SetCookie[]) => [...new Set(cookies.map((c) => c.name))].sort();

test('C32 the flows set the cookies this suite is about', (t) => {
  t.deepEqual(names(issued(variants.http!)), [
    'latchkey_interaction', 'latchkey_interaction.sig', 'latchkey_known', 'latchkey_known.sig',
    'latchkey_resume', 'latchkey_resume.sig', 'latchkey_session', 'latchkey_session.sig',
  ]);
  t.true(names(issued(variants.https!)).some((name) => /session$/.test(name)), names(issued(variants.https!)).join(', '));
  t.true(names(issued(variants.https!)).includes('__Host-latchkey_known'), names(issued(variants.https!)).join(', '));
});

test('C32 http issuer: every cookie is HttpOnly with an explicit SameSite', (t) => {
  for (const cookie of issued(variants.http!)) {
    t.true(cookie.attributes.has('httponly'), `${cookie.raw}: HttpOnly`);
    t.regex(cookie.attributes.get('samesite') ?? '', /^(lax|strict)$/i, `${cookie.raw}: SameSite`);
  }
});

test('C32 https issuer: every cookie is Secure and HttpOnly with an explicit SameSite', (t) => {
  const cookies = variants.https!.cookies; // deletions too: a cookie reset without Secure is refused by browsers for __Secure-/__Host- names
  t.true(cookies.length > 0);
  for (const cookie of cookies) {
    t.true(cookie.attributes.has('secure'), `${cookie.raw}: Secure`);
    t.true(cookie.attributes.has('httponly'), `${cookie.raw}: HttpOnly`);
    t.regex(cookie.attributes.get('samesite') ?? '', /^(lax|strict)$/i, `${cookie.raw}: SameSite`);
  }
});

test('C32 https issuer: the session cookie has the __Host- prefix and meets its rules (Secure, Path=/, no Domain)', (t) => {
  const session = issued(variants.https!).filter((cookie) => /session(\.sig)?$/.test(cookie.name));
  t.true(session.length >= 2, names(session).join(', '));
  for (const cookie of session) {
    t.true(cookie.name.startsWith('__Host-'), `${cookie.name}: __Host- prefix`);
  }
  // Any __Host- cookie a browser would reject if these rules are broken (it would then silently have no session).
  for (const cookie of variants.https!.cookies.filter((c) => c.name.startsWith('__Host-'))) {
    t.true(cookie.attributes.has('secure'), `${cookie.raw}: Secure`);
    t.is(cookie.attributes.get('path'), '/', `${cookie.raw}: Path=/`);
    t.false(cookie.attributes.has('domain'), `${cookie.raw}: no Domain`);
  }
});

test('C32 https issuer: path-scoped cookies (interaction, resume) use the __Secure- prefix and never a Domain', (t) => {
  for (const cookie of variants.https!.cookies) {
    t.false(cookie.attributes.has('domain'), `${cookie.raw}: no Domain`);
    if (!cookie.name.startsWith('__Host-')) t.true(cookie.name.startsWith('__Secure-'), `${cookie.name}: __Host- or __Secure- prefix`);
  }
});

test('C32 http issuer: cookies carry no Domain attribute (host-only)', (t) => {
  for (const cookie of variants.http!.cookies) t.false(cookie.attributes.has('domain'), cookie.raw);
});
