// needs: postgres redis
// C06: only the S256 code challenge method (RFC 9700 §2.1.1): `plain` and
// any other method are refused with invalid_request (no code, no sign-in),
// a challenge without a method is not taken as `plain`, and discovery lists S256 alone.
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertRedirectedError,
  authorizationUrl,
  codeFlowParams,
  parRequest,
  pkce,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  signedInBrowser,
  SPA_REDIRECT_URI,
  startAuthzFixture,
  type AuthzFixture,
} from './_support-authz.ts';

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture({ spa: true });
  browser = await signedInBrowser(fixture);
});
test.after.always(async () => {
  await fixture?.stop();
});

// A `plain` challenge is the verifier itself: 43+ characters of the unreserved set.
const PLAIN_CHALLENGE = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

test('C06 discovery lists only S256', async (t) => {
  const response = await fetch(new URL('/.well-known/openid-configuration', fixture.issuer));
  t.is(response.status, 200);
  const metadata = await response.json() as Record<string, unknown>;
  t.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
});

test('C06 control: S256 is accepted', async (t) => {
  const target = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none' }))), fixture.issuer, 'S256');
  t.truthy(target?.searchParams.get('code'));
});

test('C06 code_challenge_method=plain is refused with invalid_request', async (t) => {
  const clients = [
    { label: 'confidential', client_id: fixture.web.client_id, redirect_uri: REDIRECT_URI },
    { label: 'public', client_id: fixture.spa.client_id, redirect_uri: SPA_REDIRECT_URI },
  ];
  for (const { label, ...client } of clients) {
    const params = codeFlowParams(fixture, PLAIN_CHALLENGE, { ...client, code_challenge_method: 'plain' });
    assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, params)), {
      issuer: fixture.issuer, redirectUri: client.redirect_uri, error: 'invalid_request', state: params.state,
    }, `${label}, no session`);
  }
  // Signed in, where an accepted request would return a code at once.
  const params = codeFlowParams(fixture, PLAIN_CHALLENGE, { code_challenge_method: 'plain', prompt: 'none' });
  assertRedirectedError(t, await browser.request(authorizationUrl(fixture.issuer, params)), {
    issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
  }, 'signed in');
});

test('C06 other code_challenge_method values are refused with invalid_request', async (t) => {
  for (const method of ['PLAIN', 's256', 'S256 ', 'S384', 'S512', 'SHA256', 'none', '']) {
    const params = codeFlowParams(fixture, pkce().challenge, { code_challenge_method: method, prompt: 'none' });
    assertRedirectedError(t, await browser.request(authorizationUrl(fixture.issuer, params)), {
      issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
    }, `method ${JSON.stringify(method)}`);
  }
});

test('C06 a code_challenge without code_challenge_method (RFC 7636 default: plain) is refused', async (t) => {
  for (const challenge of [PLAIN_CHALLENGE, pkce().challenge]) {
    const params = codeFlowParams(fixture, challenge, { code_challenge_method: undefined, prompt: 'none' });
    assertRedirectedError(t, await browser.request(authorizationUrl(fixture.issuer, params)), {
      issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
    }, `challenge ${challenge}`);
  }
});

test('C06 a pushed authorization request with code_challenge_method=plain is refused', async (t) => {
  for (const method of ['plain', undefined]) {
    const { status, json } = await parRequest(fixture.issuer, fixture.web, {
      response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: PLAIN_CHALLENGE,
      ...(method ? { code_challenge_method: method } : {}),
    });
    t.is(status, 400, `${method ?? 'no method'}: ${JSON.stringify(json)}`);
    t.is(json.error, 'invalid_request', `${method ?? 'no method'}`);
    t.is(json.request_uri, undefined);
  }
});
