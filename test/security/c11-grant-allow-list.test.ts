// needs: postgres redis
// C11: each client may use only the grants it is registered for (RFC 6749
// §5.2 / §4.1.2.1: unauthorized_client). A client_credentials-only client
// trying the code flow gets unauthorized_client at the token endpoint and the
// PAR endpoint and no sign-in at /auth; code-flow clients get
// unauthorized_client for client_credentials.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  API_IDENTIFIER,
  assertErrorPage,
  authorizationUrl,
  clientConfig,
  codeFlowParams,
  jwtPayload,
  obtainCode,
  parRequest,
  pkce,
  rawRequest,
  REDIRECT_URI,
  signedInBrowser,
  startAuthzFixture,
  tokenRequest,
  type AuthzFixture,
  type RegisteredClient,
} from './_support-authz.ts';

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture({ spa: true, machine: true });
  browser = await signedInBrowser(fixture);
});
test.after.always(async () => {
  await fixture?.stop();
});

async function assertUnauthorizedClient(t: ExecutionContext, client: RegisteredClient, body: Record<string, string>, label: string) {
  const { status, json } = await tokenRequest(fixture.issuer, client, body);
  t.is(status, 400, `${label}: ${JSON.stringify(json)}`);
  t.is(json.error, 'unauthorized_client', `${label}: ${json.error} (${json.error_description})`);
  for (const token of ['access_token', 'id_token', 'refresh_token']) t.is(json[token], undefined, `${label}: no ${token}`);
}

test('C11 control: each client gets tokens from the grant it is registered for', async (t) => {
  const machine = await oidc.clientCredentialsGrant(await clientConfig(fixture, fixture.machine), { scope: 'orders:read' });
  t.is(jwtPayload(machine.access_token).aud, API_IDENTIFIER);
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  const web = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  t.is(web.status, 200, JSON.stringify(web.json));
  t.truthy(web.json.refresh_token);
});

test('C11 a client_credentials-only client redeeming an authorization code gets unauthorized_client', async (t) => {
  // A real, unused code (the web client's) and its verifier: only the grant type is wrong.
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  await assertUnauthorizedClient(t, fixture.machine, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, 'authorization_code');
});

test('C11 a client_credentials-only client using a refresh token gets unauthorized_client', async (t) => {
  const { code, verifier, redirectUri } = await obtainCode(fixture, { browser });
  const tokens = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  t.truthy(tokens.json.refresh_token, 'a real refresh token to try');
  await assertUnauthorizedClient(t, fixture.machine, { grant_type: 'refresh_token', refresh_token: String(tokens.json.refresh_token) }, 'refresh_token');
});

test('C11 code-flow clients asking for client_credentials get unauthorized_client', async (t) => {
  await assertUnauthorizedClient(t, fixture.web, { grant_type: 'client_credentials', scope: 'orders:read' }, 'confidential code client');
  await assertUnauthorizedClient(t, fixture.spa, { grant_type: 'client_credentials', scope: 'orders:read' }, 'public client');
});

test('C11 a client_credentials-only client at /auth gets an error page, no redirect and no sign-in', async (t) => {
  const cases: [string, Record<string, string | undefined>][] = [
    ['with another client\'s redirect_uri', { client_id: fixture.machine.client_id }],
    ['without redirect_uri', { client_id: fixture.machine.client_id, redirect_uri: undefined }],
    ['without redirect_uri, prompt=none', { client_id: fixture.machine.client_id, redirect_uri: undefined, prompt: 'none' }],
  ];
  for (const [label, extra] of cases) {
    const url = authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, extra));
    const anonymous = await rawRequest(url);
    t.false(anonymous.headers.getSetCookie().some((cookie) => /interaction/.test(cookie)), `${label}: no interaction started`);
    await assertErrorPage(t, anonymous, `${label}, no session`);
    await assertErrorPage(t, await browser.request(url, { headers: { accept: 'text/html' } }), `${label}, signed in`);
  }
});

test('C11 a client_credentials-only client pushing a code request gets unauthorized_client', async (t) => {
  const { status, json } = await parRequest(fixture.issuer, fixture.machine, {
    response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: pkce().challenge, code_challenge_method: 'S256',
  });
  t.is(status, 400, JSON.stringify(json));
  t.is(json.error, 'unauthorized_client', `${json.error} (${json.error_description})`);
  t.is(json.request_uri, undefined);
});
