// needs: postgres redis
// C57: every URL Latchkey issues or accepts comes from ISSUER, never from the
// request. A foreign Host (or, behind TRUST_PROXY, a foreign X-Forwarded-Host
// added by the proxy) or an absolute-form request target for another host is
// refused with 421, and never shows up in discovery, the JWKS URI, a form
// action, or the `aud` a client assertion is accepted with. Health checks
// answer whatever the Host. Two servers: one behind a (simulated) proxy, one
// reached directly.
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { rawHttp, type RawResponse } from '../helpers/raw-http.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { adminChangesApplied, createApi, createClient, type RegisteredClient } from './_support-tokens.ts';

const EVIL = 'evil.example';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const KID = 'c57-key';

let proxied: RunningServer;
let direct: RunningServer;
let assertingClient: RegisteredClient;
let clientKey: CryptoKey;
let scope: string;
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-c57-'));

test.before(async () => {
  [proxied, direct] = await Promise.all([startServer({ env: { TRUST_PROXY: 'true' } }), startServer()]);
  const api = await createApi(proxied, 'jobs:run');
  scope = 'jobs:run';
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  clientKey = privateKey;
  const jwksFile = join(tmp, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] }));
  assertingClient = await createClient(proxied, ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks-file', jwksFile, '--api', api.identifier, '--scope', scope]);
  await adminChangesApplied(proxied);
});
test.after.always(async () => {
  await Promise.all([proxied?.stop(), direct?.stop()]);
  rmSync(tmp, { recursive: true, force: true });
});

const host = (server: RunningServer) => new URL(server.issuer).host;

/** Requests with each kind of endpoint: discovery, JWKS, pages, the token endpoint, userinfo, the account page. */
const ENDPOINTS: Array<{ method: string; target: string; body?: string }> = [
  { method: 'GET', target: '/.well-known/openid-configuration' },
  { method: 'GET', target: '/jwks' },
  { method: 'GET', target: '/auth?client_id=unknown&response_type=code&scope=openid' },
  { method: 'POST', target: '/token', body: 'grant_type=client_credentials' },
  { method: 'GET', target: '/me' },
  { method: 'GET', target: '/session/end' },
  { method: 'GET', target: '/account' },
  { method: 'GET', target: '/interaction/abc' },
  { method: 'POST', target: '/token/introspection', body: 'token=abc' },
];
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function assertMisdirected(t: ExecutionContext, response: RawResponse, label: string) {
  t.is(response.status, 421, `${label}: ${response.status} ${response.body.slice(0, 200)}`);
  t.false(response.body.includes(EVIL), `${label}: the foreign host is not echoed`);
  t.is(response.headers.location, undefined, `${label}: no redirect`);
}

/** Every URL-valued member of the discovery document starts with the issuer. */
function assertDiscoveryFromIssuer(t: ExecutionContext, response: RawResponse, issuer: string, label: string) {
  t.is(response.status, 200, `${label}: discovery answers`);
  const document = JSON.parse(response.body) as Record<string, unknown>;
  t.is(document.issuer, issuer);
  const urls = Object.entries(document).filter(([, value]) => typeof value === 'string' && /^https?:/.test(value));
  t.true(urls.length >= 6, `${label}: discovery lists its endpoints`);
  for (const [name, value] of urls) t.true(value === issuer || (value as string).startsWith(`${issuer}/`), `${label}: ${name} = ${value}`);
  t.is(document.jwks_uri, `${issuer}/jwks`, `${label}: jwks_uri`);
  t.false(response.body.includes(EVIL), `${label}: no foreign host anywhere`);
}

test('C57: a foreign Host is refused with 421 on every kind of endpoint, and never echoed', async (t) => {
  for (const server of [direct, proxied]) {
    for (const { method, target, body } of ENDPOINTS) {
      const response = await rawHttp(server.port, { method, target, body, headers: { host: EVIL, ...(body ? FORM : {}) } });
      assertMisdirected(t, response, `${server === direct ? 'direct' : 'proxied'} ${method} ${target} with Host: ${EVIL}`);
    }
  }
  // The issuer's own host, in another case or with its default port spelled out, is the issuer's.
  const upper = await rawHttp(direct.port, { target: '/.well-known/openid-configuration', headers: { host: host(direct).toUpperCase() } });
  assertDiscoveryFromIssuer(t, upper, direct.issuer, 'Host in upper case');
});

test('C57: behind the proxy, a foreign X-Forwarded-Host is refused; only the proxy\'s own (last) value counts', async (t) => {
  for (const { method, target, body } of ENDPOINTS) {
    const response = await rawHttp(proxied.port, { method, target, body, headers: { 'x-forwarded-host': EVIL, ...(body ? FORM : {}) } });
    assertMisdirected(t, response, `${method} ${target} with X-Forwarded-Host: ${EVIL}`);
  }
  // The client wrote the first entry; the proxy appended the real one.
  const appended = await rawHttp(proxied.port, { target: '/.well-known/openid-configuration', headers: { 'x-forwarded-host': `${EVIL}, ${host(proxied)}` } });
  assertDiscoveryFromIssuer(t, appended, proxied.issuer, 'a client-chosen X-Forwarded-Host prefix');
  const last = await rawHttp(proxied.port, { target: '/.well-known/openid-configuration', headers: { 'x-forwarded-host': `${host(proxied)}, ${EVIL}` } });
  assertMisdirected(t, last, 'the proxy-added X-Forwarded-Host is foreign');
});

test('C57: without TRUST_PROXY, X-Forwarded-Host and X-Forwarded-Proto change nothing', async (t) => {
  const response = await rawHttp(direct.port, {
    target: '/.well-known/openid-configuration', headers: { 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' },
  });
  assertDiscoveryFromIssuer(t, response, direct.issuer, 'forwarded headers sent to a server that does not trust them');
});

test('C57: an absolute-form request target naming another host is refused', async (t) => {
  for (const server of [direct, proxied]) {
    const foreign = await rawHttp(server.port, { target: `http://${EVIL}/.well-known/openid-configuration` });
    assertMisdirected(t, foreign, 'GET http://evil.example/.well-known/openid-configuration');
    const own = await rawHttp(server.port, { target: `${server.issuer}/.well-known/openid-configuration` });
    assertDiscoveryFromIssuer(t, own, server.issuer, 'an absolute-form target naming the issuer');
  }
});

test('C57: the logout confirmation form posts to the issuer', async (t) => {
  const response = await rawHttp(direct.port, { target: '/session/end', headers: { accept: 'text/html' } });
  t.is(response.status, 200, response.body.slice(0, 300));
  const actions = [...response.body.matchAll(/<form\b[^>]*\baction="([^"]*)"/gi)].map((m) => m[1]);
  t.true(actions.length > 0, 'the page has a form');
  for (const action of actions) t.true(action.startsWith(`${direct.issuer}/`), `form action ${action}`);
});

function assertion(aud: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: KID })
    .setIssuer(assertingClient.client_id)
    .setSubject(assertingClient.client_id)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(clientKey);
}

async function withAssertion(target: string, aud: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  const body = new URLSearchParams({ ...form, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(aud) }).toString();
  return rawHttp(proxied.port, { method: 'POST', target, body, headers: { ...FORM, accept: 'application/json', ...headers } });
}

const tokenWithAssertion = (aud: string, headers: Record<string, string> = {}) =>
  withAssertion('/token', aud, { grant_type: 'client_credentials', scope }, headers);

test('C57: a client assertion is accepted only with aud = the issuer or its token endpoint, whatever the Host says', async (t) => {
  const evilToken = `http://${EVIL}/token`;
  assertMisdirected(t, await tokenWithAssertion(evilToken, { host: EVIL }), 'aud and Host both evil.example');
  assertMisdirected(t, await tokenWithAssertion(evilToken, { 'x-forwarded-host': EVIL }), 'aud and X-Forwarded-Host both evil.example');

  for (const aud of [evilToken, `http://${EVIL}`, `${proxied.issuer}/token/`, `${proxied.issuer.toUpperCase()}/token`]) {
    const refused = await tokenWithAssertion(aud);
    t.is(refused.status, 401, `aud ${aud}: ${refused.body}`);
    t.is(JSON.parse(refused.body).error, 'invalid_client', `aud ${aud}`);
  }
  for (const aud of [proxied.issuer, `${proxied.issuer}/token`]) {
    const accepted = await tokenWithAssertion(aud);
    t.is(accepted.status, 200, `aud ${aud}: ${accepted.body}`);
    t.truthy(JSON.parse(accepted.body).access_token, `aud ${aud}: a token`);
  }
});

test('C57: at introspection and revocation too, only the issuer or the token endpoint is an accepted aud', async (t) => {
  for (const endpoint of ['/token/introspection', '/token/revocation']) {
    const own = await withAssertion(endpoint, `${proxied.issuer}${endpoint}`, { token: 'x' });
    t.is(own.status, 401, `${endpoint} with aud = its own URL: ${own.body}`);
    t.is(JSON.parse(own.body).error, 'invalid_client');
    for (const aud of [proxied.issuer, `${proxied.issuer}/token`]) {
      const accepted = await withAssertion(endpoint, aud, { token: 'x' });
      t.is(accepted.status, 200, `${endpoint} with aud ${aud}: ${accepted.body}`);
    }
  }
});

test('C57: health checks answer whatever the Host (load balancers probe the process directly)', async (t) => {
  for (const hostHeader of ['10.0.0.5:8080', EVIL]) {
    const response = await rawHttp(proxied.port, { target: '/healthz', headers: { host: hostHeader } });
    t.is(response.status, 200, `Host: ${hostHeader}`);
    t.is(JSON.parse(response.body).status, 'ok');
  }
});
