// needs: postgres redis
// C01: redirect_uri must match a registered one exactly (RFC 9700 §4.1.3,
// OpenID conformance oidcc-redirect-uri-*). Every near miss of a registered
// URI gets a 400 HTML error page and no Location: not a redirect to the
// near miss, not even the start of a sign-in.
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertErrorPage,
  assertNoRedirect,
  authorizationUrl,
  codeFlowParams,
  LOOPBACK_REDIRECT_URI,
  pkce,
  rawRequest,
  REDIRECT_URI,
  REDIRECT_URI_WITH_QUERY,
  redirectTarget,
  signedInBrowser,
  startAuthzFixture,
  withoutParams,
  type AuthzFixture,
} from './_support-authz.ts';

// Registered: https://app.example.com/callback, https://app.example.com/cb?tenant=acme,
// http://127.0.0.1:8765/callback.
const NEAR_MISSES: [string, string][] = [
  ['trailing slash', 'https://app.example.com/callback/'],
  ['extra query parameter', 'https://app.example.com/callback?x=1'],
  ['empty query', 'https://app.example.com/callback?'],
  ['host case change', 'https://APP.example.com/callback'],
  ['path case change', 'https://app.example.com/Callback'],
  ['scheme case change', 'HTTPS://app.example.com/callback'],
  ['%2F instead of the path slash', 'https://app.example.com%2Fcallback'],
  ['trailing %2F', 'https://app.example.com/callback%2F'],
  ['percent-encoded path character', 'https://app.example.com/%63allback'],
  ['dot segments', 'https://app.example.com/x/../callback'],
  ['explicit default port :443', 'https://app.example.com:443/callback'],
  ['other port', 'https://app.example.com:8443/callback'],
  ['user@ userinfo', 'https://user@app.example.com/callback'],
  ['user:password@ userinfo', 'https://user:secret@app.example.com/callback'],
  ['registered host as userinfo', 'https://app.example.com@evil.example/callback'],
  ['fragment', 'https://app.example.com/callback#frag'],
  ['empty fragment', 'https://app.example.com/callback#'],
  ['http instead of https', 'http://app.example.com/callback'],
  ['registered host as a prefix', 'https://app.example.com.evil.example/callback'],
  ['trailing dot on the host', 'https://app.example.com./callback'],
  ['path prefix match', 'https://app.example.com/callback/evil'],
  ['longer path segment', 'https://app.example.com/callbackx'],
  ['double slash', 'https://app.example.com//callback'],
  ['leading space', ' https://app.example.com/callback'],
  ['trailing %20', 'https://app.example.com/callback%20'],
  ['registered query plus a parameter', 'https://app.example.com/cb?tenant=acme&x=1'],
  ['registered query, other value', 'https://app.example.com/cb?tenant=evil'],
  ['registered query dropped', 'https://app.example.com/cb'],
  ['registered query, name case change', 'https://app.example.com/cb?TENANT=acme'],
  ['registered query, = percent-encoded', 'https://app.example.com/cb?tenant%3Dacme'],
  ['loopback: localhost for 127.0.0.1', 'http://localhost:8765/callback'],
  ['loopback: https for http', 'https://127.0.0.1:8765/callback'],
  ['loopback: trailing slash', 'http://127.0.0.1:8765/callback/'],
];

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture();
  browser = await signedInBrowser(fixture); // consent for "openid email" given
});
test.after.always(async () => {
  await fixture?.stop();
});

test('C01 control: each registered redirect_uri, exactly as registered, is accepted', async (t) => {
  for (const registered of [REDIRECT_URI, REDIRECT_URI_WITH_QUERY, LOOPBACK_REDIRECT_URI]) {
    // Anonymous: the sign-in starts (a redirect to the interaction on the issuer).
    const anonymous = await rawRequest(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: registered })));
    const login = redirectTarget(t, anonymous, fixture.issuer, `${registered} anonymous`);
    t.is(login?.origin, new URL(fixture.issuer).origin, `${registered}: sign-in on the issuer`);
    t.regex(login?.pathname ?? '', /^\/interaction\//, `${registered}: sign-in page`);

    // Signed in: the code goes straight back to the registered URI, its query kept.
    const params = codeFlowParams(fixture, pkce().challenge, { redirect_uri: registered, prompt: 'none' });
    const response = await browser.request(authorizationUrl(fixture.issuer, params));
    const back = redirectTarget(t, response, fixture.issuer, `${registered} signed in`);
    if (!back) continue;
    t.is(withoutParams(back), withoutParams(new URL(registered)), `${registered}: back to the client`);
    t.truthy(back.searchParams.get('code'), `${registered}: code`);
    t.is(back.searchParams.get('state'), params.state!, `${registered}: state`);
    for (const [name, value] of new URL(registered).searchParams) t.is(back.searchParams.get(name), value, `${registered}: registered query kept`);
  }
});

test('C01 near misses of a registered redirect_uri get an error page and no Location (no session)', async (t) => {
  for (const [label, redirectUri] of NEAR_MISSES) {
    const url = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: redirectUri }));
    await assertErrorPage(t, await rawRequest(url), `${label} (${redirectUri})`);
  }
});

test('C01 near misses get an error page and no Location for a signed-in user with prompt=none (where a code would be sent)', async (t) => {
  for (const [label, redirectUri] of NEAR_MISSES) {
    const url = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: redirectUri, prompt: 'none' }));
    await assertErrorPage(t, await browser.request(url, { headers: { accept: 'text/html' } }), `${label} (${redirectUri})`);
  }
});

// oidc-provider 9 serves POST /auth only with enableHttpPostMethods; whether
// it is on or off, a near miss sent by POST must not be redirected to.
test('C01 near misses sent by POST /auth are refused without a redirect', async (t) => {
  for (const [label, redirectUri] of NEAR_MISSES) {
    const params = codeFlowParams(fixture, pkce().challenge, { redirect_uri: redirectUri });
    const body = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const response = await browser.request(new URL('/auth', fixture.issuer).toString(), {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    await assertNoRedirect(t, response, `POST ${label} (${redirectUri})`);
  }
});
