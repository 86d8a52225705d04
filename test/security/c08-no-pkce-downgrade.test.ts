// needs: postgres redis
// C08: no PKCE downgrade (RFC 9700 §4.8.2). The attack needs a code issued
// without a code_challenge, redeemed by a client that sends its code_verifier
// anyway. So: no route issues a code without a challenge (front channel,
// signed-in user, PAR), and a code issued with an S256 challenge cannot be
// redeemed by downgrading to `plain` at the token endpoint.
import test from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  assertRedirectedError,
  authorizationUrl,
  codeFlowParams,
  obtainCode,
  parRequest,
  pkce,
  rawRequest,
  REDIRECT_URI,
  redirectTarget,
  responseParams,
  signedInBrowser,
  startAuthzFixture,
  tokenRequest,
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

const NO_PKCE = { code_challenge: undefined, code_challenge_method: undefined };

test('C08 no code and no sign-in for an authorization request without a challenge', async (t) => {
  const { verifier } = pkce();
  // The client "has" a verifier and even sends it to /auth: still no challenge, so refused.
  for (const extra of [{}, { code_verifier: verifier }]) {
    const params = codeFlowParams(fixture, '', { ...NO_PKCE, ...extra });
    const anonymous = await rawRequest(authorizationUrl(fixture.issuer, params));
    assertRedirectedError(t, anonymous, { issuer: fixture.issuer, redirectUri: REDIRECT_URI, error: 'invalid_request', state: params.state }, `anonymous ${Object.keys(extra)}`);

    for (const prompt of ['none', undefined, 'consent']) {
      const signedInParams = codeFlowParams(fixture, '', { ...NO_PKCE, ...extra, prompt });
      const response = await browser.request(authorizationUrl(fixture.issuer, signedInParams));
      const target = redirectTarget(t, response, fixture.issuer, `signed in, prompt=${prompt}`);
      t.is(target && responseParams(target).get('code'), null, `signed in, prompt=${prompt}: no code`);
      t.not(target?.origin, new URL(fixture.issuer).origin, `signed in, prompt=${prompt}: no consent or sign-in page`);
    }
  }
});

test('C08 no request_uri (hence no code) from a pushed request without a challenge', async (t) => {
  const { status, json } = await parRequest(fixture.issuer, fixture.web, {
    response_type: 'code', scope: 'openid email', redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier,
  });
  t.is(status, 400, JSON.stringify(json));
  t.is(json.error, 'invalid_request');
  t.is(json.request_uri, undefined);
});

test('C08 a pushed request\'s challenge cannot be dropped or downgraded at /auth', async (t) => {
  const { challenge } = pkce();
  const pushed = await parRequest(fixture.issuer, fixture.web, {
    response_type: 'code', scope: 'openid email', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 'par',
  });
  t.is(pushed.status, 201, JSON.stringify(pushed.json));
  // Parameters outside the pushed request try to switch PKCE off or to plain.
  const url = authorizationUrl(fixture.issuer, {
    client_id: fixture.web.client_id, request_uri: String(pushed.json.request_uri),
    code_challenge: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', code_challenge_method: 'plain',
  });
  const target = redirectTarget(t, await browser.request(url), fixture.issuer, 'PAR + overrides');
  const code = target && responseParams(target).get('code');
  if (!code) {
    // Refusing the overrides outright is fine too.
    t.truthy(target && responseParams(target).get('error'), `refused with an error: ${target}`);
    return;
  }
  // Only the pushed S256 challenge counts: the plain "verifier" fails.
  const downgraded = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' });
  t.is(downgraded.status, 400, JSON.stringify(downgraded.json));
  t.is(downgraded.json.error, 'invalid_grant');
  t.is(downgraded.json.access_token, undefined);
});

test('C08 a code issued with an S256 challenge cannot be redeemed as plain', async (t) => {
  const attempts: [string, (challenge: string) => Record<string, string>][] = [
    ['the challenge as the verifier', (challenge) => ({ code_verifier: challenge })],
    ['the challenge as the verifier, code_challenge_method=plain', (challenge) => ({ code_verifier: challenge, code_challenge_method: 'plain' })],
  ];
  for (const [label, extra] of attempts) {
    const { challenge } = pkce();
    const params = codeFlowParams(fixture, challenge, { prompt: 'none' });
    const target = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, params)), fixture.issuer, label);
    const code = target?.searchParams.get('code');
    if (!code) {
      t.fail(`${label}: no code issued`);
      continue;
    }
    const { status, json } = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra(challenge) });
    t.is(status, 400, `${label}: ${JSON.stringify(json)}`);
    t.is(json.error, 'invalid_grant', label);
    t.is(json.access_token, undefined, `${label}: no access token`);
  }
});

test('C08 control: the S256 verifier redeems a code', async (t) => {
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  const { status, json } = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  t.is(status, 200, JSON.stringify(json));
  t.truthy(json.access_token);
});
