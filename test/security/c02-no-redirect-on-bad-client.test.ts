// needs: postgres redis
// C02: the authorization endpoint never redirects when it cannot trust the
// client_id or the redirect_uri (RFC 6749 §4.1.2.1, oidcc-ensure-registered-redirect-uri):
// an unknown client or an unregistered URI gets a 400 HTML page, whatever
// else is wrong with the request and whether or not the user is signed in.
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertErrorPage,
  authorizationUrl,
  codeFlowParams,
  EVIL,
  pkce,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  signedInBrowser,
  SPA_REDIRECT_URI,
  startAuthzFixture,
  type AuthzFixture,
} from './_support-authz.ts';

const EVIL_CALLBACK = `${EVIL}/callback`;

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture({ spa: true });
  browser = await signedInBrowser(fixture);
});
test.after.always(async () => {
  await fixture?.stop();
});

/** The error page must not offer a way on to the untrusted URI either. */
function assertNoLinkTo(t: import('ava').ExecutionContext, page: string, uri: string, label: string) {
  if (!uri) return;
  const escaped = uri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  t.notRegex(page, new RegExp(`(href|action|src)\\s*=\\s*["']?${escaped}`, 'i'), `${label}: page links to ${uri}`);
}

test('C02 control: the same request with the registered client and redirect_uri does redirect', async (t) => {
  const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none' });
  const back = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, params)), fixture.issuer, 'registered');
  t.is(back?.origin, new URL(REDIRECT_URI).origin);
  t.truthy(back?.searchParams.get('code'));
});

test('C02 an unknown client_id gets a 400 HTML page and no redirect', async (t) => {
  const cases: [string, Record<string, string | undefined>][] = [
    ['unknown client_id with a registered redirect_uri', { client_id: 'no-such-client' }],
    ['unknown client_id with a foreign redirect_uri', { client_id: 'no-such-client', redirect_uri: EVIL_CALLBACK }],
    ['missing client_id', { client_id: undefined }],
    ['empty client_id', { client_id: '' }],
    ['client_id differing in case', { client_id: fixture.web.client_id.toUpperCase() === fixture.web.client_id ? fixture.web.client_id.toLowerCase() : fixture.web.client_id.toUpperCase() }],
    ['client_id with a trailing space', { client_id: `${fixture.web.client_id} ` }],
  ];
  for (const [label, extra] of cases) {
    const url = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, extra));
    const page = await assertErrorPage(t, await rawRequest(url), label);
    assertNoLinkTo(t, page, EVIL_CALLBACK, label);
    // Signed in, with prompt=none: still a page, never a redirect.
    await assertErrorPage(t, await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { ...extra, prompt: 'none' })), { headers: { accept: 'text/html' } }), `${label}, signed in`);
  }
});

test('C02 an unregistered redirect_uri gets a 400 HTML page and no redirect', async (t) => {
  const cases: [string, string][] = [
    ['a foreign site', EVIL_CALLBACK],
    ['another client\'s registered redirect_uri', SPA_REDIRECT_URI],
    ['a relative URI', '/callback'],
    ['a protocol-relative URI', '//evil.example/callback'],
    ['a javascript: URI', 'javascript:alert(document.domain)'],
    ['a data: URI', 'data:text/html,<script>alert(1)</script>'],
    ['not a URI', 'not a uri'],
    ['an empty redirect_uri', ''],
  ];
  for (const [label, redirectUri] of cases) {
    const anonymous = await rawRequest(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: redirectUri })));
    assertNoLinkTo(t, await assertErrorPage(t, anonymous, label), redirectUri, label);
    const signedIn = await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: redirectUri, prompt: 'none' })), { headers: { accept: 'text/html' } });
    assertNoLinkTo(t, await assertErrorPage(t, signedIn, `${label}, signed in`), redirectUri, label);
  }
});

test('C02 an unregistered redirect_uri gets a page even when the request has other errors', async (t) => {
  // Each of these errors would normally be reported by redirecting to the client;
  // with an untrusted redirect_uri it must be reported on the page instead.
  const cases: [string, Record<string, string | undefined>][] = [
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }],
    ['code_challenge_method=plain', { code_challenge_method: 'plain' }],
    ['response_type=token', { response_type: 'token', nonce: 'n-0S6_WzA2Mj' }],
    ['unsupported response_type', { response_type: 'bogus' }],
    ['unsupported response_mode', { response_mode: 'bogus' }],
    ['response_mode=form_post', { response_mode: 'form_post' }],
    ['response_mode=fragment', { response_mode: 'fragment' }],
    ['prompt=none without a session', { prompt: 'none' }],
    ['unknown prompt', { prompt: 'bogus' }],
    ['no scope', { scope: undefined }],
    ['request object', { request: 'eyJhbGciOiJub25lIn0.eyJyZWRpcmVjdF91cmkiOiJodHRwczovL2V2aWwuZXhhbXBsZS9jYWxsYmFjayJ9.' }],
    ['request_uri', { request_uri: `${EVIL}/request.jwt` }],
  ];
  for (const [label, extra] of cases) {
    for (const [where, redirectUri] of [['foreign site', EVIL_CALLBACK], ['other client\'s URI', SPA_REDIRECT_URI]]) {
      const url = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { ...extra, redirect_uri: redirectUri }));
      await assertErrorPage(t, await rawRequest(url), `${label}, ${where}`);
    }
    // Unknown client plus the other error.
    const unknownClient = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { ...extra, client_id: 'no-such-client' }));
    await assertErrorPage(t, await rawRequest(unknownClient), `${label}, unknown client`);
  }
});

test('C02 a deleted client gets a 400 HTML page and no redirect', async (t) => {
  const doomed = await fixture.server.admin<{ client_id: string }>([
    'clients', 'create', '--name', 'Doomed', '--grant', 'authorization_code', '--redirect-uri', 'https://doomed.example/callback',
  ]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const params = () => codeFlowParams(fixture, pkce().challenge, { client_id: doomed.client_id, redirect_uri: 'https://doomed.example/callback' });
  // Control: while it exists, the request starts a sign-in.
  const before = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, params())), fixture.issuer, 'existing client');
  t.regex(before?.pathname ?? '', /^\/interaction\//);

  await fixture.server.admin(['clients', 'delete', doomed.client_id]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await assertErrorPage(t, await rawRequest(authorizationUrl(fixture.issuer, params())), 'deleted client');
});
