// needs: postgres redis
// C16: state and nonce round-trip (RFC 6749 §4.1.2, OIDC Core §3.1.2.6 /
// §3.1.3.7). `state` comes back byte-exact (Unicode, reserved characters,
// unnormalised combining marks) on success and error responses, in the query
// and in form_post; `nonce` is in the ID token exactly as sent, and only when sent.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import {
  authorizationUrl,
  codeFlowParams,
  formPostResponse,
  jwtPayload,
  obtainCode,
  pkce,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  responseParams,
  signedInBrowser,
  startAuthzFixture,
  tokenRequest,
  USER,
  webClientConfig,
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

const UNICODE_STATE = 'Zürich ✓ 🔐 中文 café';
const STATES: [string, string][] = [
  ['Unicode', UNICODE_STATE],
  ['combining mark, not NFC-normalised', 'cafe\u0301 \u212b'],
  ['reserved characters', `&=+/?#%;,:@!$'()*[] "<>\\^\`{|}~`],
  ['a literal percent sequence', 'a%20b%2Fc%25'],
  ['plus signs and spaces', ' + leading and trailing + '],
  ['invisible and bidi characters', '\u00a0\u200b\u200d\u202eevil\u202c'],
  ['HTML entity text', '&amp;lt;&#39;'],
  ['long', `${'ž'.repeat(200)}${'x'.repeat(200)}`],
];

/** Byte-exact: same UTF-8 bytes, not merely equal after normalisation or trimming. */
function assertBytes(t: ExecutionContext, actual: string | null | undefined, expected: string, label: string) {
  t.is(actual, expected, `${label}: state`);
  t.true(Buffer.from(actual ?? '', 'utf8').equals(Buffer.from(expected, 'utf8')), `${label}: same UTF-8 bytes`);
}

test('C16 Unicode state comes back byte-exact and nonce is in the ID token (sign-in, openid-client exchange)', async (t) => {
  const config = await webClientConfig(fixture);
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state: UNICODE_STATE, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await signIn(new ScriptedBrowser(fixture.issuer), url.toString(), USER);
  assertBytes(t, callback.searchParams.get('state'), UNICODE_STATE, 'after sign-in and consent');
  // openid-client checks state and nonce itself...
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: UNICODE_STATE, expectedNonce: nonce });
  // ...and the ID token says so in plain sight.
  t.is(tokens.claims()?.nonce, nonce);
  t.is(jwtPayload(String(tokens.id_token)).nonce, nonce);
});

test('C16 openid-client refuses a response whose state or nonce differs', async (t) => {
  const config = await webClientConfig(fixture);
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: 'openid email', state: UNICODE_STATE, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await signIn(browser, url.toString(), USER);
  // The state check runs before the code is used; an NFD-decomposed state is a different state.
  const decomposed = UNICODE_STATE.normalize('NFD');
  t.not(decomposed, UNICODE_STATE);
  const wrongState = await t.throwsAsync(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: decomposed, expectedNonce: nonce }));
  t.regex(String((wrongState?.cause as Error | undefined)?.message ?? wrongState?.message), /state/);
  // The nonce check runs on the ID token.
  const wrongNonce = await t.throwsAsync(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: UNICODE_STATE, expectedNonce: oidc.randomNonce() }));
  t.regex(String((wrongNonce?.cause as Error | undefined)?.message ?? wrongNonce?.message), /nonce/);
});

test('C16 tricky state values come back byte-exact (query response)', async (t) => {
  for (const [label, state] of STATES) {
    const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none', state });
    const back = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, params)), fixture.issuer, label);
    t.truthy(back?.searchParams.get('code'), `${label}: code`);
    assertBytes(t, back?.searchParams.get('state'), state, label);
    t.deepEqual(back?.searchParams.getAll('state').length, 1, `${label}: one state`);
  }
});

test('C16 tricky state values come back byte-exact (form_post response)', async (t) => {
  for (const [label, state] of STATES) {
    const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none', state, response_mode: 'form_post' });
    const form = formPostResponse(await (await browser.request(authorizationUrl(fixture.issuer, params))).text());
    t.is(form?.action, REDIRECT_URI, `${label}: form to the client`);
    t.truthy(form?.params.get('code'), `${label}: code`);
    assertBytes(t, form?.params.get('state'), state, `${label} (form_post)`);
  }
});

test('C16 state comes back byte-exact on error responses', async (t) => {
  for (const [label, state] of STATES) {
    // invalid_request (no PKCE), in the query.
    const noPkce = codeFlowParams(fixture, '', { state, code_challenge: undefined, code_challenge_method: undefined });
    const query = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, noPkce)), fixture.issuer, label);
    t.is(query?.searchParams.get('error'), 'invalid_request', label);
    assertBytes(t, query?.searchParams.get('state'), state, `${label} (invalid_request)`);
    // unsupported_response_type, in the fragment.
    const implicit = codeFlowParams(fixture, pkce().challenge, { state, response_type: 'token', nonce: 'n' });
    const fragment = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, implicit)), fixture.issuer, label);
    t.is(fragment && responseParams(fragment).get('error'), 'unsupported_response_type', label);
    assertBytes(t, fragment && responseParams(fragment).get('state'), state, `${label} (fragment)`);
  }
  // access_denied after the user cancels at consent.
  const cancelled = codeFlowParams(fixture, pkce().challenge, { state: UNICODE_STATE });
  const back = await signIn(new ScriptedBrowser(fixture.issuer), authorizationUrl(fixture.issuer, cancelled), { ...USER, consent: false });
  t.is(back.searchParams.get('error'), 'access_denied');
  assertBytes(t, back.searchParams.get('state'), UNICODE_STATE, 'access_denied');
});

test('C16 no state sent, no state returned', async (t) => {
  const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none', state: undefined });
  const back = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, params)), fixture.issuer, 'no state');
  t.truthy(back?.searchParams.get('code'));
  t.false(back?.searchParams.has('state'));
});

test('C16 nonce is in the ID token exactly as sent (Unicode too), and absent when not sent', async (t) => {
  for (const nonce of [oidc.randomNonce(), 'nønce ✓ 🔐 e\u0301 &=+', undefined]) {
    const { code, verifier, redirectUri } = await obtainCode(fixture, { browser, extra: { nonce } });
    const { status, json } = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    t.is(status, 200, JSON.stringify(json));
    const claims = jwtPayload(String(json.id_token));
    if (nonce === undefined) t.false('nonce' in claims, 'no nonce claim when none was sent');
    else assertBytes(t, claims.nonce as string, nonce, `nonce ${nonce}`);
  }
});
