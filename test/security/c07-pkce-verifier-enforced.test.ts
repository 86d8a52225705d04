// needs: postgres redis
// C07: the token endpoint enforces the PKCE verifier (RFC 7636 §4.6): a
// wrong or missing code_verifier gets invalid_grant and no tokens, for
// confidential and public clients alike. The happy path (openid-client) proves
// the codes used here are otherwise good.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import {
  authorizationUrl,
  obtainCode,
  pkce,
  signedInBrowser,
  SPA_REDIRECT_URI,
  startAuthzFixture,
  tokenRequest,
  USER,
  webClientConfig,
  type AuthzFixture,
  type RegisteredClient,
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

async function assertInvalidGrant(t: ExecutionContext, client: RegisteredClient, body: Record<string, string>, label: string) {
  const { status, json } = await tokenRequest(fixture.issuer, client, body);
  t.is(status, 400, `${label}: status ${JSON.stringify(json)}`);
  t.is(json.error, 'invalid_grant', `${label}: error (${json.error_description})`);
  for (const token of ['access_token', 'id_token', 'refresh_token']) t.is(json[token], undefined, `${label}: no ${token}`);
}

test('C07 control: the right code_verifier redeems the code (openid-client)', async (t) => {
  const config = await webClientConfig(fixture);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: 'https://app.example.com/callback', scope: 'openid email', state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await signIn(browser, url.toString(), USER);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  t.truthy(tokens.access_token);
  t.truthy(tokens.claims()?.sub);
});

test('C07 a wrong code_verifier gets invalid_grant (confidential client)', async (t) => {
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  const wrong: [string, string][] = [
    ['another random verifier', pkce().verifier],
    ['the verifier with one character changed', verifier.slice(0, -1) + (verifier.endsWith('A') ? 'B' : 'A')],
    ['the verifier upper-cased', verifier.toUpperCase() === verifier ? verifier.toLowerCase() : verifier.toUpperCase()],
    ['the verifier plus a character', `${verifier}A`],
    ['a verifier of another flow', (await obtainCode(fixture, { browser })).verifier],
  ];
  for (const [label, codeVerifier] of wrong) {
    await assertInvalidGrant(t, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier }, label);
  }
});

test('C07 a missing or empty code_verifier gets invalid_grant (confidential client)', async (t) => {
  for (const [label, extra] of [['missing', {}], ['empty', { code_verifier: '' }]] as const) {
    const { code, redirectUri } = await obtainCode(fixture, { browser });
    await assertInvalidGrant(t, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...extra }, label);
  }
});

test('C07 a wrong or missing code_verifier gets invalid_grant (public client)', async (t) => {
  const extra = { client_id: fixture.spa.client_id, redirect_uri: SPA_REDIRECT_URI };
  // Its own browser: the first sign-in shows consent, and interaction cookies are not shared with other tests.
  const spaBrowser = new ScriptedBrowser(fixture.issuer);
  const wrong = await obtainCode(fixture, { browser: spaBrowser, extra });
  await assertInvalidGrant(t, fixture.spa, { grant_type: 'authorization_code', code: wrong.code, redirect_uri: SPA_REDIRECT_URI, code_verifier: pkce().verifier }, 'wrong verifier');
  const missing = await obtainCode(fixture, { browser: spaBrowser, extra });
  await assertInvalidGrant(t, fixture.spa, { grant_type: 'authorization_code', code: missing.code, redirect_uri: SPA_REDIRECT_URI }, 'missing verifier');
  // Control: the public client's own verifier works.
  const good = await obtainCode(fixture, { browser: spaBrowser, extra });
  const { status, json } = await tokenRequest(fixture.issuer, fixture.spa, { grant_type: 'authorization_code', code: good.code, redirect_uri: SPA_REDIRECT_URI, code_verifier: good.verifier });
  t.is(status, 200, JSON.stringify(json));
  t.truthy(json.access_token);
});

test('C07 openid-client with the wrong verifier is refused with invalid_grant', async (t) => {
  const config = await webClientConfig(fixture);
  const { challenge } = pkce();
  const state = oidc.randomState();
  const url = authorizationUrl(fixture.issuer, {
    client_id: fixture.web.client_id, response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.com/callback',
    code_challenge: challenge, code_challenge_method: 'S256', state,
  });
  const callback = await signIn(browser, url, USER);
  const error = await t.throwsAsync(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: pkce().verifier, expectedState: state }));
  t.is((error as { error?: string }).error, 'invalid_grant');
});
