// needs: postgres redis
// C30 CSRF on every form: a POST without the form's token, with a wrong
// token, or sent from another site (cross-site Origin, or Sec-Fetch-Site when
// the Origin is withheld) gets 403 and changes nothing. Covers the login and
// consent (allow and deny) forms; each refused attempt carries otherwise
// valid input, and the same form then succeeds with its real token, so the
// 403 can only come from the CSRF defence.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { parseForm, type ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { browserFor, createUser, createWebClient, openLoginPage, promptNone, REDIRECT_URI, signInThroughPages, type TestClient, type TestUser } from './_support-pages.ts';
import { csrfTokenOf } from './_support-page-checks.ts';

let server: RunningServer;
let client: TestClient;
let user: TestUser;

test.before(async () => {
  server = await startServer();
  client = await createWebClient(server);
  user = await createUser(server);
});
test.after.always(async () => {
  await server?.stop();
});

interface Attack {
  name: string;
  /** Form fields to send, given the page's real hidden fields. */
  fields: (real: Record<string, string>, otherToken: string) => Record<string, string>;
  headers: (origin: string) => Record<string, string>;
}

const ATTACKS: Attack[] = [
  { name: 'no token', fields: ({ csrf: _drop, ...rest }) => rest, headers: (origin) => ({ origin }) },
  { name: 'empty token', fields: (real) => ({ ...real, csrf: '' }), headers: (origin) => ({ origin }) },
  { name: 'wrong token', fields: (real) => ({ ...real, csrf: randomBytes(32).toString('base64url') }), headers: (origin) => ({ origin }) },
  { name: "another interaction's token", fields: (real, other) => ({ ...real, csrf: other }), headers: (origin) => ({ origin }) },
  { name: 'cross-site Origin with the real token', fields: (real) => real, headers: () => ({ origin: 'https://evil.example' }) },
  { name: 'same-host other-port Origin with the real token', fields: (real) => real, headers: (origin) => ({ origin: origin.replace(/:\d+$/, ':1') }) },
  { name: 'Origin: null and Sec-Fetch-Site: cross-site with the real token', fields: (real) => real, headers: () => ({ origin: 'null', 'sec-fetch-site': 'cross-site' }) },
  { name: 'no Origin and Sec-Fetch-Site: cross-site with the real token', fields: (real) => real, headers: () => ({ 'sec-fetch-site': 'cross-site' }) },
];

/** A valid CSRF token of some other interaction (tokens must be bound to their own). */
async function foreignToken(): Promise<string> {
  const other = await openLoginPage(browserFor(server), server.issuer, client.client_id);
  return csrfTokenOf(other.html);
}

async function expectRefused(t: any, browser: ScriptedBrowser, action: string, real: Record<string, string>, extra: Record<string, string>, what: string) {
  const other = await foreignToken();
  for (const attack of ATTACKS) {
    const response = await browser.request(action, {
      method: 'POST',
      headers: { accept: 'text/html', ...attack.headers(browser.origin) },
      form: { ...attack.fields(real, other), ...extra },
    });
    const body = await response.text();
    t.is(response.status, 403, `${what}, ${attack.name}: ${response.status} ${response.headers.get('location') ?? body.slice(0, 300)}`);
    t.is(response.headers.get('location'), null, `${what}, ${attack.name}: must not redirect`);
  }
}

const sessionCookie = (browser: ScriptedBrowser) => [...browser.cookies.keys()].find((name) => /session$/.test(name));

test('C30 login form: missing, wrong or foreign token and cross-site origins get 403; the real token then signs in', async (t) => {
  const browser = browserFor(server);
  const login = await openLoginPage(browser, server.issuer, client.client_id);
  const { action, fields } = parseForm(login.html, /\/login$/);
  await expectRefused(t, browser, action, fields, { email: user.email, password: user.password }, 'login');

  const accepted = await browser.request(action, { method: 'POST', headers: { origin: browser.origin }, form: { ...fields, email: user.email, password: user.password } });
  t.is(accepted.status, 303, 'the same form with its real token and a same-origin Origin is accepted');
  await browser.follow(accepted.headers.get('location')!); // oidc-provider sets the session cookie when it resumes
  t.truthy(sessionCookie(browser), 'signed in');
});

test('C30 login form: a POST with neither Origin nor Sec-Fetch-Site (old browsers) still needs the token', async (t) => {
  const browser = browserFor(server);
  const login = await openLoginPage(browser, server.issuer, client.client_id);
  const { action, fields } = parseForm(login.html, /\/login$/);
  const refused = await browser.request(action, { method: 'POST', form: { email: user.email, password: user.password } });
  t.is(refused.status, 403);
  const accepted = await browser.request(action, { method: 'POST', form: { ...fields, email: user.email, password: user.password } });
  t.is(accepted.status, 303);
});

test('C30 consent form (allow and deny): missing, wrong or foreign token and cross-site origins get 403 and record nothing', async (t) => {
  const browser = browserFor(server);
  const login = await openLoginPage(browser, server.issuer, client.client_id, { scope: 'openid email' });
  const loginForm = parseForm(login.html, /\/login$/);
  const consentPage = await browser.follow(loginForm.action, { method: 'POST', headers: { origin: browser.origin }, form: { ...loginForm.fields, email: user.email, password: user.password } });
  t.is(consentPage.response.status, 200);
  const allow = parseForm(consentPage.html, /\/consent$/);
  const deny = parseForm(consentPage.html, /\/abort$/);

  await expectRefused(t, browser, allow.action, allow.fields, {}, 'consent allow');
  await expectRefused(t, browser, deny.action, deny.fields, {}, 'consent deny');

  // Nothing was granted: a silent request for the same scopes still needs consent.
  const silent = await promptNone(browser, server.issuer, client.client_id);
  t.is(silent.searchParams.get('error'), 'consent_required', silent.toString());

  // The refused POSTs did not end the interaction either: the real token works.
  const done = await browser.follow(allow.action, { method: 'POST', headers: { origin: browser.origin }, form: allow.fields });
  t.true(done.location?.startsWith(`${REDIRECT_URI}?`), done.location ?? done.url);
  t.truthy(new URL(done.location!).searchParams.get('code'));
});

test('C30 logout form: a POST without its xsrf token or with a wrong one does not sign the user out', async (t) => {
  // The logout form is oidc-provider's (field "xsrf", bound to the session).
  // oidc-provider refuses it with invalid_request; server/oidc/pages.ts
  // answers that as 403 like every other CSRF refusal, and the session survives.
  const browser = browserFor(server);
  const back = await signInThroughPages(browser, server.issuer, client.client_id, user);
  t.truthy(back.searchParams.get('code'));
  const page = await browser.follow(`/session/end?client_id=${encodeURIComponent(client.client_id)}`);
  const { action, fields } = parseForm(page.html, /\/session\/end\/confirm$/);
  t.truthy(fields.xsrf);
  for (const [name, form] of [
    ['no token', { logout: 'yes' }],
    ['wrong token', { xsrf: randomBytes(24).toString('hex'), logout: 'yes' }],
  ] as const) {
    const response = await browser.request(action, { method: 'POST', headers: { accept: 'text/html' }, form });
    await response.arrayBuffer();
    t.is(response.status, 403, `${name}: ${response.status} ${response.headers.get('location') ?? ''}`);
    const silent = await promptNone(browser, server.issuer, client.client_id);
    t.truthy(silent.searchParams.get('code'), `${name}: still signed in (${silent})`);
  }
  // With its real token the same form does sign out.
  const done = await browser.follow(action, { method: 'POST', form: { ...fields, logout: 'yes' } });
  t.is(done.response.status, 200);
  const after = await promptNone(browser, server.issuer, client.client_id);
  t.is(after.searchParams.get('error'), 'login_required');
});
