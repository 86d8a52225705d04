// needs: postgres redis
// C15: mix-up defence (RFC 9207). Every authorization response sent to the
// client, success or error, query or fragment or form_post, carries `iss`
// equal to the issuer; discovery says so with
// authorization_response_iss_parameter_supported: true; openid-client (which
// then requires and checks `iss`) completes the flow.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import {
  assertRedirectedError,
  authorizationUrl,
  codeFlowParams,
  formPostResponse,
  pkce,
  rawRequest,
  REDIRECT_URI,
  REDIRECT_URI_WITH_QUERY,
  redirectTarget,
  responseParams,
  signedInBrowser,
  USER,
  startAuthzFixture,
  webClientConfig,
  withoutParams,
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

/** Exactly one `iss`, equal to the issuer (not normalised, e.g. no trailing slash). */
function assertIss(t: ExecutionContext, params: URLSearchParams | undefined, label: string) {
  t.deepEqual(params?.getAll('iss'), [fixture.issuer], `${label}: iss`);
}

test('C15 discovery has authorization_response_iss_parameter_supported: true', async (t) => {
  const response = await fetch(new URL('/.well-known/openid-configuration', fixture.issuer));
  const metadata = await response.json() as Record<string, unknown>;
  t.is(metadata.authorization_response_iss_parameter_supported, true);
  t.is(metadata.issuer, fixture.issuer, 'iss values below are compared with this issuer');
  // The OAuth metadata document says the same when served.
  const oauth = await fetch(new URL('/.well-known/oauth-authorization-server', fixture.issuer));
  if (oauth.status === 200) t.is((await oauth.json() as Record<string, unknown>).authorization_response_iss_parameter_supported, true);
});

test('C15 a successful code response carries iss (after sign-in and consent)', async (t) => {
  const params = codeFlowParams(fixture, pkce().challenge);
  const back = await signIn(new ScriptedBrowser(fixture.issuer), authorizationUrl(fixture.issuer, params), USER);
  t.truthy(back.searchParams.get('code'));
  assertIss(t, back.searchParams, 'sign-in');
});

test('C15 a successful code response carries iss (signed in, prompt=none; registered query kept)', async (t) => {
  for (const redirectUri of [REDIRECT_URI, REDIRECT_URI_WITH_QUERY]) {
    const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none', redirect_uri: redirectUri });
    const back = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, params)), fixture.issuer, redirectUri);
    t.truthy(back?.searchParams.get('code'), redirectUri);
    assertIss(t, back?.searchParams, redirectUri);
  }
});

test('C15 openid-client completes the code flow with its iss check', async (t) => {
  const config = await webClientConfig(fixture);
  t.true(config.serverMetadata().authorization_response_iss_parameter_supported);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await signIn(browser, url.toString(), USER);
  // The same response with another issuer's iss (a mix-up) is rejected before the code is used...
  const forged = new URL(callback);
  forged.searchParams.set('iss', 'https://other-issuer.example');
  const mixUp = await t.throwsAsync(oidc.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedState: state }));
  t.regex(String((mixUp?.cause as Error | undefined)?.message ?? mixUp?.message), /\biss\b/, 'rejected for its iss');
  // ...and the genuine one, with the server's iss, succeeds.
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  t.truthy(tokens.access_token);
});

test('C15 error responses carry iss', async (t) => {
  // invalid_request (no PKCE), in the query.
  const noPkce = codeFlowParams(fixture, '', { code_challenge: undefined, code_challenge_method: undefined });
  assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, noPkce)), { issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: noPkce.state }, 'invalid_request');

  // unsupported_response_type, in the fragment.
  const implicit = codeFlowParams(fixture, pkce().challenge, { response_type: 'id_token token', nonce: 'n' });
  const fragment = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, implicit)), fixture.issuer, 'unsupported_response_type');
  t.true((fragment?.hash.length ?? 0) > 1, 'delivered in the fragment');
  t.is(fragment && responseParams(fragment).get('error'), 'unsupported_response_type');
  assertIss(t, fragment && responseParams(fragment), 'unsupported_response_type');

  // login_required (prompt=none without a session).
  const none = codeFlowParams(fixture, pkce().challenge, { prompt: 'none' });
  assertRedirectedError(t, await rawRequest(authorizationUrl(fixture.issuer, none)), { issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'login_required', state: none.state }, 'login_required');

  // consent_required (signed in, prompt=none, a scope not consented to yet).
  const moreScope = codeFlowParams(fixture, pkce().challenge, { prompt: 'none', scope: 'openid email profile' });
  assertRedirectedError(t, await browser.request(authorizationUrl(fixture.issuer, moreScope)), { issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'consent_required', state: moreScope.state }, 'consent_required');
});

test('C15 access_denied (the user cancels at consent) carries iss', async (t) => {
  const params = codeFlowParams(fixture, pkce().challenge);
  const back = await signIn(new ScriptedBrowser(fixture.issuer), authorizationUrl(fixture.issuer, params), { ...USER, consent: false });
  t.is(withoutParams(back), REDIRECT_URI);
  t.is(back.searchParams.get('error'), 'access_denied');
  t.is(back.searchParams.get('state'), params.state!);
  assertIss(t, back.searchParams, 'access_denied');
});

test('C15 form_post responses, success and error, carry iss', async (t) => {
  const success = await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none', response_mode: 'form_post' })));
  const successForm = formPostResponse(await success.text());
  t.is(successForm?.action, REDIRECT_URI, 'success form posts to the client');
  t.truthy(successForm?.params.get('code'), 'success form has a code');
  assertIss(t, successForm?.params, 'form_post success');

  const error = await rawRequest(authorizationUrl(fixture.issuer, codeFlowParams(fixture, '', { code_challenge: undefined, code_challenge_method: undefined, response_mode: 'form_post' })));
  const errorForm = formPostResponse(await error.text());
  t.is(errorForm?.action, REDIRECT_URI, 'error form posts to the client');
  t.is(errorForm?.params.get('error'), 'invalid_request');
  assertIss(t, errorForm?.params, 'form_post error');
});
