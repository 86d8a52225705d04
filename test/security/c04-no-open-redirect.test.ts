// needs: postgres redis
// C04: no open redirector (RFC 9700 §4.11, ASVS 5.0 V3.7). RP-initiated
// logout only returns to a post_logout_redirect_uri registered for the
// client; the sign-in pages have no "return to" parameter that leads off-site;
// no other route turns a URL parameter into a redirect to another origin.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { parseForm, ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertErrorPage,
  assertNoRedirect,
  authorizationUrl,
  BROWSER_HEADERS,
  codeFlowParams,
  EVIL,
  obtainCode,
  pkce,
  POST_LOGOUT_REDIRECT_URI,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  signedInBrowser,
  SPA_POST_LOGOUT_REDIRECT_URI,
  startAuthzFixture,
  tokenRequest,
  USER,
  withoutParams,
  type AuthzFixture,
} from './_support-authz.ts';

const EVIL_LANDING = `${EVIL}/landing`;
/** Parameter names sites commonly use for "where to go after this page". */
const RETURN_TO_NAMES = [
  'return_to', 'returnTo', 'return_url', 'returnUrl', 'redirect', 'redirect_to', 'redirect_url', 'redirectUrl',
  'redirect_uri', 'next', 'continue', 'url', 'goto', 'target', 'dest', 'destination', 'forward', 'callback',
  'post_login_redirect_uri', 'target_link_uri',
];
const RETURN_TO_VALUES = [EVIL_LANDING, '//evil.example/landing', '/\\evil.example/landing', 'https:evil.example/landing'];

const returnTo = (value: string): Record<string, string> => Object.fromEntries(RETURN_TO_NAMES.map((name) => [name, value]));
const withQuery = (url: string, params: Record<string, string>): string => {
  const result = new URL(url);
  for (const [name, value] of Object.entries(params)) result.searchParams.set(name, value);
  return result.toString();
};

let fixture: AuthzFixture;

test.before(async () => {
  fixture = await startAuthzFixture({ spa: true });
});
test.after.always(async () => {
  await fixture?.stop();
});

/** A Location header, if any, must stay on the issuer's origin. */
function assertStaysOnIssuer(t: ExecutionContext, response: Response, label: string) {
  const location = response.headers.get('location');
  if (location === null) {
    t.pass();
    return;
  }
  t.is(new URL(location, fixture.issuer).origin, new URL(fixture.issuer).origin, `${label}: redirected off-site to ${location}`);
}

/** An ID token for the web client (for id_token_hint). */
async function idToken(browser: ScriptedBrowser): Promise<string> {
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  const { status, json } = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  if (status !== 200 || typeof json.id_token !== 'string') throw new Error(`token exchange failed: ${status} ${JSON.stringify(json)}`);
  return json.id_token;
}

const endSessionUrl = (params: Record<string, string>) => withQuery(new URL('/session/end', fixture.issuer).toString(), params);

/** Confirms the logout page shown to a signed-in browser; returns the confirmation response. */
async function confirmLogout(t: ExecutionContext, browser: ScriptedBrowser, page: Response, extra: Record<string, string> = {}): Promise<Response> {
  t.is(page.status, 200, 'logout confirmation page');
  const { action, fields } = parseForm(await page.text());
  t.is(new URL(action).origin, new URL(fixture.issuer).origin, 'the logout form posts to the issuer');
  return browser.request(action, { method: 'POST', headers: { origin: fixture.issuer }, form: { ...fields, logout: 'yes', ...extra } });
}

test('C04 control: a registered post_logout_redirect_uri is honoured after the logout confirmation', async (t) => {
  const browser = await signedInBrowser(fixture);
  const page = await browser.request(endSessionUrl({ client_id: fixture.web.client_id, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI, state: 'bye-1' }), { headers: BROWSER_HEADERS });
  const done = redirectTarget(t, await confirmLogout(t, browser, page), fixture.issuer, 'confirm');
  t.is(done && withoutParams(done), POST_LOGOUT_REDIRECT_URI);
  t.is(done?.searchParams.get('state'), 'bye-1');
});

test('C04 an unregistered post_logout_redirect_uri gets an error page and no redirect', async (t) => {
  const browser = await signedInBrowser(fixture);
  const hint = await idToken(browser);
  const unregistered: [string, string][] = [
    ['a foreign site', `${EVIL}/`],
    ['a protocol-relative URI', '//evil.example/'],
    ['the registered URI plus a trailing slash', `${POST_LOGOUT_REDIRECT_URI}/`],
    ['the registered URI plus a query', `${POST_LOGOUT_REDIRECT_URI}?next=${encodeURIComponent(EVIL)}`],
    ['the registered URI with the host upper-cased', POST_LOGOUT_REDIRECT_URI.replace('app.example.com', 'APP.example.com')],
    ['the registered URI with :443', POST_LOGOUT_REDIRECT_URI.replace('app.example.com', 'app.example.com:443')],
    ['the registered URI with user@', POST_LOGOUT_REDIRECT_URI.replace('https://', 'https://user@')],
    ['the registered host as userinfo', 'https://app.example.com@evil.example/logged-out'],
    ['the registered URI plus a fragment', `${POST_LOGOUT_REDIRECT_URI}#x`],
    ['another client\'s post-logout URI', SPA_POST_LOGOUT_REDIRECT_URI],
    ['the client\'s redirect_uri (not registered for logout)', REDIRECT_URI],
    ['a javascript: URI', 'javascript:alert(document.domain)'],
  ];
  for (const [label, uri] of unregistered) {
    for (const [how, identify] of [['client_id', { client_id: fixture.web.client_id }], ['id_token_hint', { id_token_hint: hint }]] as const) {
      const url = endSessionUrl({ ...identify, post_logout_redirect_uri: uri, state: 's' });
      await assertErrorPage(t, await rawRequest(url), `${label} with ${how}, no session`);
      await assertErrorPage(t, await browser.request(url, { headers: BROWSER_HEADERS }), `${label} with ${how}, signed in`);
    }
    // The same by POST (served or not, never a redirect).
    const post = await browser.request(new URL('/session/end', fixture.issuer).toString(), {
      method: 'POST',
      headers: { ...BROWSER_HEADERS, origin: fixture.issuer },
      form: { client_id: fixture.web.client_id, post_logout_redirect_uri: uri },
    });
    await assertNoRedirect(t, post, `${label} by POST`);
  }
  // The session survived all of that: the signed-in browser still gets a code without a prompt.
  const still = await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none' })));
  t.truthy(redirectTarget(t, still, fixture.issuer, 'still signed in')?.searchParams.get('code'), 'session still alive');
});

test('C04 a post_logout_redirect_uri without client_id or id_token_hint is never followed', async (t) => {
  for (const signedIn of [false, true]) {
    const browser = signedIn ? await signedInBrowser(fixture) : new ScriptedBrowser(fixture.issuer);
    let step = await browser.follow(endSessionUrl({ post_logout_redirect_uri: EVIL_LANDING, state: 's' }), { headers: BROWSER_HEADERS });
    // Either refused outright, or a logout (confirmation or auto-submitting) form on the issuer.
    if (step.response.status === 200 && /<form/i.test(step.html)) {
      const { action, fields } = parseForm(step.html);
      t.is(new URL(action, fixture.issuer).origin, new URL(fixture.issuer).origin, 'form posts to the issuer');
      step = await browser.follow(action, { method: 'POST', headers: { origin: fixture.issuer }, form: { ...fields, logout: 'yes' } });
    }
    t.is(step.location, undefined, `${signedIn ? 'signed in' : 'no session'}: left the issuer for ${step.location}`);
    t.is(new URL(step.url).origin, new URL(fixture.issuer).origin);
    t.false(step.html.includes('evil.example'), 'the final page does not link to the URI');
  }
});

test('C04 the logout confirmation ignores an injected post_logout_redirect_uri', async (t) => {
  // Registered URI asked for at /session/end: the confirmation still goes there, not to the injected one.
  const first = await signedInBrowser(fixture);
  const page = await first.request(endSessionUrl({ client_id: fixture.web.client_id, post_logout_redirect_uri: POST_LOGOUT_REDIRECT_URI }), { headers: BROWSER_HEADERS });
  const done = redirectTarget(t, await confirmLogout(t, first, page, { post_logout_redirect_uri: EVIL_LANDING, ...returnTo(EVIL_LANDING) }), fixture.issuer, 'confirm');
  t.is(done && withoutParams(done), POST_LOGOUT_REDIRECT_URI);

  // None asked for: the injected one does not take effect either.
  const second = await signedInBrowser(fixture);
  const plain = await second.request(endSessionUrl({ client_id: fixture.web.client_id }), { headers: BROWSER_HEADERS });
  const confirm = await confirmLogout(t, second, plain, { post_logout_redirect_uri: EVIL_LANDING, ...returnTo(EVIL_LANDING) });
  assertStaysOnIssuer(t, confirm, 'confirm without a registered URI');
});

test('C04 the sign-in pages ignore "return to" parameters pointing elsewhere', async (t) => {
  for (const value of RETURN_TO_VALUES) {
    const browser = new ScriptedBrowser(fixture.issuer);
    const start = await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge)));
    const interaction = redirectTarget(t, start, fixture.issuer, 'start');
    if (!interaction) return;

    // The login page with return-to parameters renders, without a redirect or a link off-site.
    const loginPage = await browser.request(withQuery(interaction.toString(), returnTo(value)), { headers: BROWSER_HEADERS });
    const html = await loginPage.text();
    t.is(loginPage.status, 200, `${value}: login page`);
    t.is(loginPage.headers.get('location'), null, `${value}: login page does not redirect`);
    t.false(html.includes('evil.example'), `${value}: the login page does not carry the URI`);

    // Signing in with return-to parameters in the query and the form.
    const { action, fields } = parseForm(html, /\/login$/);
    const login = await browser.request(withQuery(new URL(action, fixture.issuer).toString(), returnTo(value)), {
      method: 'POST',
      form: { ...fields, ...returnTo(value), email: USER.email, password: USER.password },
    });
    t.true(login.status === 302 || login.status === 303, `${value}: login answered ${login.status}`);
    assertStaysOnIssuer(t, login, `${value}: after login`);

    // On to consent (approved with the same parameters): the code goes to the registered redirect_uri only.
    let step = await browser.follow(new URL(login.headers.get('location') ?? '/', fixture.issuer).toString());
    if (!step.location && /\/consent"/.test(step.html)) {
      const consent = parseForm(step.html, /\/consent$/);
      step = await browser.follow(withQuery(new URL(consent.action, fixture.issuer).toString(), returnTo(value)), { method: 'POST', form: { ...consent.fields, ...returnTo(value) } });
    }
    t.truthy(step.location, `${value}: back to the client`);
    const back = new URL(step.location ?? fixture.issuer);
    t.is(withoutParams(back), REDIRECT_URI, `${value}: only the registered redirect_uri`);
    t.truthy(back.searchParams.get('code'), `${value}: code`);
  }
});

test('C04 cancelling sign-in with a foreign redirect_uri in the form returns to the registered one', async (t) => {
  const browser = new ScriptedBrowser(fixture.issuer);
  const first = await browser.follow(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge)));
  const login = parseForm(first.html, /\/login$/);
  const consentPage = await browser.follow(login.action, { method: 'POST', form: { ...login.fields, email: USER.email, password: USER.password } });
  const abort = parseForm(consentPage.html, /\/abort$/);
  const aborted = await browser.follow(withQuery(new URL(abort.action, fixture.issuer).toString(), returnTo(EVIL_LANDING)), {
    method: 'POST',
    form: { ...abort.fields, ...returnTo(EVIL_LANDING) },
  });
  const back = new URL(aborted.location ?? fixture.issuer);
  t.is(withoutParams(back), REDIRECT_URI);
  t.is(back.searchParams.get('error'), 'access_denied');
});

test('C04 no route redirects off-site because of a URL parameter', async (t) => {
  const paths = [
    '/', '/login', '/logout', '/signin', '/account', '/interaction/unknown-uid', '/interaction/unknown-uid/login',
    '/auth/unknown-uid', '/session/end/success', '/session/end/confirm', '/me', '/healthz', '/static/latchkey.css',
  ];
  for (const path of paths) {
    for (const value of RETURN_TO_VALUES) {
      const url = withQuery(new URL(path, fixture.issuer).toString(), returnTo(value));
      assertStaysOnIssuer(t, await rawRequest(url), `GET ${path} (${value})`);
    }
  }
  // A POST to an unknown interaction with return-to parameters is refused, not redirected.
  const post = await rawRequest(withQuery(new URL('/interaction/unknown-uid/login', fixture.issuer).toString(), returnTo(EVIL_LANDING)), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: fixture.issuer },
    body: new URLSearchParams({ ...returnTo(EVIL_LANDING), email: USER.email, password: USER.password, csrf: 'x' }),
  });
  await assertNoRedirect(t, post, 'POST unknown interaction');
});
