// The page routes over HTTP against Latchkey in this process (no Postgres,
// Redis or child process: test/helpers/in-process-app.ts): the home page,
// /account sending a stranger to sign in, the sign-in page (CSRF token,
// strict CSP), a password sign-in through the interaction pages back to
// /account, the generic answer to a wrong password, and a TOTP set-up.
import test, { type ExecutionContext } from 'ava';
import { generate } from 'otplib';
import { parseForm, ScriptedBrowser } from '../helpers/browser.ts';
import { startInProcessApp, type InProcessApp } from '../helpers/in-process-app.ts';
import type { CreatedUser } from '../helpers/oidc-http.ts';

let app: InProcessApp;
test.before(async (t) => {
  const started = performance.now();
  app = await startInProcessApp();
  t.log(`in-process app ready in ${Math.round(performance.now() - started)} ms`);
});
test.after.always(async () => {
  await app?.stop();
});

const GENERIC_LOGIN_ERROR = 'The email or password is not correct.';

/** The strict CSP every page carries: nothing but this origin, scripts and styles only with this response's nonce. */
function assertStrictCsp(t: ExecutionContext, response: Response, html: string) {
  const csp = response.headers.get('content-security-policy') ?? '';
  const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
  t.truthy(nonce, `a script nonce in ${csp}`);
  t.regex(csp, /default-src 'self'/);
  t.regex(csp, /object-src 'none'/);
  t.regex(csp, /base-uri 'none'/);
  t.regex(csp, /frame-ancestors 'none'/);
  t.notRegex(csp, /unsafe-inline|unsafe-eval|\*/);
  for (const tag of html.matchAll(/<(script|style)\b(?![^>]*\bsrc=)[^>]*>/gi)) t.true(tag[0].includes(`nonce="${nonce}"`), `${tag[0]} carries the nonce`);
}

/** GET /account in a new browser: follows the redirects to the sign-in page. */
async function openAccountSignIn() {
  const browser = new ScriptedBrowser(app.issuer);
  const page = await browser.follow('/account');
  return { browser, page };
}

/** Posts the sign-in form of `page` with this email and password; follows the redirects. */
async function postPassword(browser: ScriptedBrowser, html: string, user: { email: string; password: string }) {
  const { action, fields } = parseForm(html, /\/login$/);
  return browser.follow(action, { method: 'POST', headers: { origin: app.issuer }, form: { ...fields, email: user.email, password: user.password } });
}

/** A browser signed in to /account with a new user's password. */
async function signedIn(): Promise<{ browser: ScriptedBrowser; user: CreatedUser; html: string }> {
  const user = await app.createUser();
  const { browser, page } = await openAccountSignIn();
  const after = await postPassword(browser, page.html, user);
  if (new URL(after.url).pathname !== '/account') throw new Error(`sign-in ended on ${after.url} (${after.response.status})`);
  return { browser, user, html: after.html };
}

test('GET / is the home page, linking to the account page and the discovery document', async (t) => {
  const response = await fetch(new URL('/', app.issuer));
  const html = await response.text();
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
  t.true(html.includes('Sign-in service'));
  t.true(html.includes('href="/account"'));
  t.true(html.includes('/.well-known/openid-configuration'));
  assertStrictCsp(t, response, html);
});

test('GET /healthz answers ok', async (t) => {
  const response = await fetch(new URL('/healthz', app.issuer));
  const body = await response.clone().text();
  t.is(response.status, 200, body);
  t.is((await response.json() as { status: string }).status, 'ok');
});

test('GET /account without a session redirects to the sign-in through /auth', async (t) => {
  const response = await fetch(new URL('/account', app.issuer), { redirect: 'manual' });
  t.is(response.status, 303);
  const location = new URL(response.headers.get('location') ?? '', app.issuer);
  t.is(location.origin + location.pathname, `${app.issuer}/auth`);
  t.is(location.searchParams.get('client_id'), 'latchkey-account');
  t.is(location.searchParams.get('response_type'), 'none');
  t.regex(response.headers.getSetCookie().join('\n'), /latchkey_account_state=/);
});

test('the sign-in page renders with a CSRF token and the strict CSP', async (t) => {
  const { page } = await openAccountSignIn();
  t.is(page.response.status, 200);
  t.regex(new URL(page.url).pathname, /^\/interaction\/[^/]+$/);
  t.is(page.response.headers.get('cache-control'), 'no-store');
  const { action, fields } = parseForm(page.html, /\/login$/);
  t.regex(action, /^\/interaction\/[^/]+\/login$/);
  t.regex(fields.csrf ?? '', /^[A-Za-z0-9_-]{20,}/, 'a CSRF token in a hidden field');
  t.true(page.html.includes('name="email"') && page.html.includes('name="password"'));
  assertStrictCsp(t, page.response, page.html);
});

test('a password sign-in through the interaction pages reaches /account', async (t) => {
  const { user, html } = await signedIn();
  t.true(html.includes('Your account'));
  t.true(html.includes(user.email));
});

test('a sign-in POST without the CSRF token is refused', async (t) => {
  const user = await app.createUser();
  const { browser, page } = await openAccountSignIn();
  const { action } = parseForm(page.html, /\/login$/);
  const response = await browser.request(action, { method: 'POST', headers: { origin: app.issuer }, form: { email: user.email, password: user.password } });
  t.is(response.status, 403);
  t.false(browser.cookies.has('_session'), 'no session');
});

test('a wrong password and an unknown email get the same generic error', async (t) => {
  const user = await app.createUser();
  const answers = [];
  for (const attempt of [{ email: user.email, password: `${user.password}-not` }, { email: 'nobody@example.test', password: user.password }]) {
    const { browser, page } = await openAccountSignIn();
    const after = await postPassword(browser, page.html, attempt);
    t.is(after.response.status, 401);
    t.regex(new URL(after.url).pathname, /^\/interaction\/[^/]+\/login$/, 'still on the sign-in page');
    t.true(after.html.includes(GENERIC_LOGIN_ERROR));
    t.true(after.html.includes('name="password"'));
    answers.push(after.html.replace(/value="[^"]*"|nonce="[^"]*"|\/interaction\/[^/"]+|"challenge":"[^"]+"/g, ''));
  }
  t.is(answers[0], answers[1].replace('nobody@example.test', user.email), 'the same page, but for the echoed email');
});

test('TOTP set-up on /account: a wrong code is refused, the right one adds the factor and shows recovery codes', async (t) => {
  const { browser } = await signedIn();
  const setup = await browser.follow('/account/totp');
  t.is(new URL(setup.url).pathname, '/account/totp', 'no re-authentication right after the password');
  const secret = /id="totp-secret" data-secret="([A-Z2-7]{16,})"/.exec(setup.html)?.[1];
  t.truthy(secret, 'the secret is shown for manual entry');
  const { action, fields } = parseForm(setup.html, /\/account\/totp$/);
  const code = await generate({ secret: secret! });
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');

  const refused = await browser.follow(action, { method: 'POST', headers: { origin: app.issuer }, form: { ...fields, name: 'Phone', code: wrong } });
  t.is(refused.response.status, 401);
  t.true(refused.html.includes('That code is not correct'));

  const again = parseForm(refused.html, /\/account\/totp$/);
  const added = await browser.follow(action, { method: 'POST', headers: { origin: app.issuer }, form: { ...again.fields, name: 'Phone', code } });
  t.is(added.response.status, 200);
  t.true(added.html.includes('Save your recovery codes'), 'the recovery codes page, once');
  const overview = await browser.follow('/account');
  t.true(overview.html.includes('Phone'), 'the factor is listed');
});
