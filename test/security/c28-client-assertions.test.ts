// needs: postgres redis
// C28: private_key_jwt client assertions (RFC 7523 §3, OIDC Core §9) are
// checked: a replayed jti, a wrong aud, an expired assertion, a foreign key
// or no signature all get 401 invalid_client. A fresh, correct assertion is
// accepted (control), so every refusal is about the one thing changed.
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { adminChangesApplied, createApi, createClient, postForm, type HttpResult, type RegisteredClient } from './_support-tokens.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const KID = 'client-key-1';

let server: RunningServer;
let client: RegisteredClient;
let otherClient: RegisteredClient;
let clientKey: CryptoKey;
let tokenEndpoint: string;
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-c28-'));

test.before(async () => {
  server = await startServer();
  tokenEndpoint = `${server.issuer}/token`;
  const api = await createApi(server, 'jobs:run');
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  clientKey = privateKey;
  const jwksFile = join(tmp, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] }));
  client = await createClient(server, ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks-file', jwksFile, '--api', api.identifier, '--scope', 'jobs:run']);
  otherClient = await createClient(server, ['--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks-file', jwksFile, '--api', api.identifier, '--scope', 'jobs:run']);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface AssertionOptions {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  iat?: number;
  exp?: number;
  key?: CryptoKey;
  kid?: string;
}

const now = () => Math.floor(Date.now() / 1000);

function assertion(options: AssertionOptions = {}): Promise<string> {
  const issued = options.iat ?? now();
  return new SignJWT({ jti: options.jti ?? randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? KID })
    .setIssuer(options.iss ?? client.client_id)
    .setSubject(options.sub ?? client.client_id)
    .setAudience(options.aud ?? tokenEndpoint)
    .setIssuedAt(issued)
    .setExpirationTime(options.exp ?? issued + 60)
    .sign(options.key ?? clientKey);
}

/** The client_credentials grant authenticated by `jwt`, for `clientId`. */
const tokenWith = (jwt: string, clientId = client.client_id): Promise<HttpResult> => postForm(tokenEndpoint, {
  grant_type: 'client_credentials', client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt,
});

function assertRefused(t: ExecutionContext, result: HttpResult, label: string) {
  t.is(result.status, 401, `${label}: ${result.text}`);
  t.is(result.body.error, 'invalid_client', label);
  t.falsy(result.body.access_token, label);
}

test('C28 a fresh assertion is accepted, with aud = token endpoint or issuer (control)', async (t) => {
  for (const aud of [tokenEndpoint, server.issuer]) {
    const result = await tokenWith(await assertion({ aud }));
    t.is(result.status, 200, `aud ${aud}: ${result.text}`);
    t.truthy(result.body.access_token);
  }
});

test('C28 a replayed jti: invalid_client', async (t) => {
  const jwt = await assertion();
  t.is((await tokenWith(jwt)).status, 200);
  assertRefused(t, await tokenWith(jwt), 'same assertion again');
  // A new assertion reusing the jti (new iat/exp, new signature) is a replay too.
  const { jti } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
  assertRefused(t, await tokenWith(await assertion({ jti, iat: now() + 1 })), 're-signed with the used jti');
});

test('C28 concurrent uses of one assertion: exactly one is accepted', async (t) => {
  const jwt = await assertion();
  const results = await Promise.all(Array.from({ length: 10 }, () => tokenWith(jwt)));
  const accepted = results.filter((r) => r.status === 200).length;
  t.is(accepted, 1, `${accepted} of 10 concurrent uses of one assertion were accepted`);
  for (const result of results.filter((r) => r.status !== 200)) assertRefused(t, result, 'concurrent replay');
});

test('C28 a wrong aud: invalid_client', async (t) => {
  for (const aud of ['https://evil.example/token', `${server.issuer}/token/introspection`, `${server.issuer}/`, `${tokenEndpoint}/`, 'http://localhost/token']) {
    assertRefused(t, await tokenWith(await assertion({ aud })), `aud ${aud}`);
  }
});

test('C28 an expired assertion: invalid_client', async (t) => {
  assertRefused(t, await tokenWith(await assertion({ iat: now() - 600, exp: now() - 300 })), 'expired 5 min ago');
  assertRefused(t, await tokenWith(await assertion({ iat: now() - 120, exp: now() - 60 })), 'expired 1 min ago');
});

test('C28 an assertion not yet valid or missing exp/jti: invalid_client', async (t) => {
  const future = now() + 3600;
  assertRefused(t, await tokenWith(await new SignJWT({ jti: randomUUID(), nbf: future })
    .setProtectedHeader({ alg: 'ES256', kid: KID }).setIssuer(client.client_id).setSubject(client.client_id)
    .setAudience(tokenEndpoint).setIssuedAt().setExpirationTime(future + 60).sign(clientKey)), 'nbf in an hour');
  assertRefused(t, await tokenWith(await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: KID }).setIssuer(client.client_id).setSubject(client.client_id)
    .setAudience(tokenEndpoint).setIssuedAt().sign(clientKey)), 'no exp');
  assertRefused(t, await tokenWith(await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: KID }).setIssuer(client.client_id).setSubject(client.client_id)
    .setAudience(tokenEndpoint).setIssuedAt().setExpirationTime('1m').sign(clientKey)), 'no jti');
});

test('C28 an assertion signed by another key, or unsigned: invalid_client', async (t) => {
  const { privateKey: attacker } = await generateKeyPair('ES256');
  assertRefused(t, await tokenWith(await assertion({ key: attacker })), 'attacker key, registered kid');
  assertRefused(t, await tokenWith(await assertion({ key: attacker, kid: 'attacker' })), 'attacker key and kid');
  const real = await assertion();
  const [, payload] = real.split('.');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
  assertRefused(t, await tokenWith(none), 'alg none');
  const hs = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).setIssuer(client.client_id)
    .setSubject(client.client_id).setAudience(tokenEndpoint).setIssuedAt().setExpirationTime('1m')
    .sign(new TextEncoder().encode(client.client_id.padEnd(32, '0')));
  assertRefused(t, await tokenWith(hs), 'HS256');
});

test('C28 iss/sub naming another client, or disagreeing: refused, no token', async (t) => {
  // The same key is registered for both clients here: only the claims bind the assertion to one client.
  // A sub that contradicts the client_id parameter is a malformed request (400 invalid_request, RFC 6749
  // §5.2) or failed authentication (401 invalid_client); either way no token.
  const cases: [string, AssertionOptions][] = [
    ['assertion for the other client, our client_id', { iss: otherClient.client_id, sub: otherClient.client_id }],
    ['sub of another client', { sub: otherClient.client_id }],
    ['iss of another client', { iss: otherClient.client_id }],
  ];
  for (const [label, options] of cases) {
    const result = await tokenWith(await assertion(options));
    const refused = (result.status === 401 && result.body.error === 'invalid_client')
      || (result.status === 400 && result.body.error === 'invalid_request');
    t.true(refused, `${label}: ${result.status} ${result.text}`);
    t.falsy(result.body.access_token, label);
  }
});
