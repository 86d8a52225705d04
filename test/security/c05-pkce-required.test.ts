// needs: postgres redis
// C05: PKCE is required for every client, confidential ones included
// (RFC 9700 §2.1.1, OAuth 2.1). A code request without code_challenge gets
// invalid_request at the registered redirect_uri (with state and iss), never
// a sign-in page and never a code; the same through PAR.
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

const NO_PKCE = { code_challenge: undefined, code_challenge_method: undefined };

test('C05 control: with a code_challenge the same requests proceed', async (t) => {
  const web = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge))), fixture.issuer, 'web');
  t.regex(web?.pathname ?? '', /^\/interaction\//, 'web: sign-in starts');
  const spaParams = codeFlowParams(fixture, pkce().challenge, { client_id: fixture.spa.client_id, redirect_uri: SPA_REDIRECT_URI });
  const spa = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, spaParams)), fixture.issuer, 'spa');
  t.regex(spa?.pathname ?? '', /^\/interaction\//, 'spa: sign-in starts');
  const signedIn = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none' }))), fixture.issuer, 'signed in');
  t.truthy(signedIn?.searchParams.get('code'), 'signed in: code');
});

test('C05 a confidential client without code_challenge gets invalid_request', async (t) => {
  const params = codeFlowParams(fixture, '', NO_PKCE);
  assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, params)), {
    issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
  }, 'confidential client');
});

test('C05 a public client without code_challenge gets invalid_request', async (t) => {
  const params = codeFlowParams(fixture, '', { ...NO_PKCE, client_id: fixture.spa.client_id, redirect_uri: SPA_REDIRECT_URI });
  assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, params)), {
    issuer: fixture.issuer, redirectUri: SPA_REDIRECT_URI, error: 'invalid_request', state: params.state,
  }, 'public client');
});

test('C05 a signed-in user gets no code for a request without code_challenge', async (t) => {
  for (const extra of [{ prompt: 'none' }, {}, { scope: 'openid' }, { code_challenge_method: 'S256', code_challenge: undefined }]) {
    const params = codeFlowParams(fixture, '', { ...NO_PKCE, ...extra });
    const response = await browser.request(authorizationUrl(fixture.issuer, params));
    assertRedirectedError(t, response, {
      issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
    }, `signed in ${JSON.stringify(extra)}`);
  }
});

test('C05 code_challenge_method without a code_challenge, or an empty one, gets invalid_request', async (t) => {
  for (const extra of [{ code_challenge: undefined }, { code_challenge: '' }]) {
    const params = codeFlowParams(fixture, '', extra);
    assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, params)), {
      issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state,
    }, JSON.stringify(extra));
  }
});

test('C05 a pushed authorization request without code_challenge gets invalid_request', async (t) => {
  const { status, json } = await parRequest(fixture.issuer, fixture.web, {
    response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'par-state',
  });
  t.is(status, 400);
  t.is(json.error, 'invalid_request', json.error_description);
  t.is(json.request_uri, undefined, 'no request_uri issued');
  // Control: with a challenge the push is accepted.
  const ok = await parRequest(fixture.issuer, fixture.web, {
    response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: pkce().challenge, code_challenge_method: 'S256',
  });
  t.is(ok.status, 201, JSON.stringify(ok.json));
  t.regex(String(ok.json.request_uri), /^urn:ietf:params:oauth:request_uri:/);
});
