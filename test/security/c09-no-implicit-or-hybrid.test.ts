// needs: postgres redis
// C09: no implicit or hybrid flows (RFC 9700 §2.1.2, OAuth 2.1): every
// response_type other than `code` gets unsupported_response_type at the
// registered redirect_uri, with no token of any kind, even for a signed-in
// user who would otherwise get tokens at once; discovery offers only `code`
// (and `none`, which issues nothing and serves only the built-in account page
// client: a registered client asking for it is refused).
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertRedirectedError,
  authorizationUrl,
  codeFlowParams,
  formPostResponse,
  pkce,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  signedInBrowser,
  startAuthzFixture,
  type AuthzFixture,
} from './_support-authz.ts';

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture();
  browser = await signedInBrowser(fixture);
});
test.after.always(async () => {
  await fixture?.stop();
});

const IMPLICIT_AND_HYBRID = ['token', 'id_token', 'id_token token', 'token id_token', 'code token', 'code id_token', 'code id_token token', 'id_token code'];

test('C09 discovery offers only response_type=code (and none, which issues nothing)', async (t) => {
  const metadata = await (await fetch(new URL('/.well-known/openid-configuration', fixture.issuer))).json() as Record<string, unknown>;
  t.deepEqual(metadata.response_types_supported, ['code', 'none']);
  t.false((metadata.grant_types_supported as string[]).includes('implicit'));
});

test('C09 a registered client cannot use response_type=none', async (t) => {
  const params = codeFlowParams(fixture, pkce().challenge, { response_type: 'none', nonce: 'n-none' });
  const response = await browser.request(authorizationUrl(fixture.issuer, params));
  const location = new URL(response.headers.get('location') ?? '', fixture.issuer);
  // oidc-provider answers invalid_request here (RFC 6749 would say unauthorized_client).
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.regex(location.searchParams.get('error_description') ?? '', /response_type is not allowed for this client/);
  t.is(location.searchParams.get('code'), null);
});

test('C09 control: response_type=code gets a code for the signed-in user', async (t) => {
  const target = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none', nonce: 'n-1' }))), fixture.issuer, 'code');
  t.truthy(target?.searchParams.get('code'));
});

test('C09 response_type=token and id_token token get unsupported_response_type (no session)', async (t) => {
  for (const responseType of IMPLICIT_AND_HYBRID) {
    const params = codeFlowParams(fixture, pkce().challenge, { response_type: responseType, nonce: 'n-0S6_WzA2Mj' });
    assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, params)), {
      issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'unsupported_response_type', state: params.state,
    }, `response_type=${responseType}`);
  }
});

test('C09 a signed-in user gets no token for implicit or hybrid response types', async (t) => {
  for (const responseType of IMPLICIT_AND_HYBRID) {
    for (const extra of [{ prompt: 'none' }, {}, { response_mode: 'fragment' }, { response_mode: 'form_post' }]) {
      const params = codeFlowParams(fixture, pkce().challenge, { response_type: responseType, nonce: 'n-0S6_WzA2Mj', ...extra });
      const label = `response_type=${responseType} ${JSON.stringify(extra)}`;
      const response = await browser.request(authorizationUrl(fixture.issuer, params));
      if (extra.response_mode === 'form_post') {
        // Delivered as an auto-submitting form to the registered URI.
        const form = formPostResponse(await response.text());
        t.is(response.headers.get('location'), null, `${label}: no redirect`);
        t.is(form?.action, REDIRECT_URI, `${label}: form to the registered URI`);
        t.is(form?.params.get('error'), 'unsupported_response_type', `${label}: error`);
        t.is(form?.params.get('iss'), fixture.issuer, `${label}: iss`);
        for (const leaked of ['code', 'access_token', 'id_token']) t.false(form?.params.has(leaked), `${label}: no ${leaked}`);
        continue;
      }
      assertRedirectedError(t, response, {
        issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'unsupported_response_type', state: params.state,
      }, label);
    }
  }
});
