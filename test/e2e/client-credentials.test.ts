// needs: postgres redis
// Machine-to-machine tokens end to end: the real server in production mode,
// clients registered with the real CLI, tokens obtained with openid-client
// (every client authentication method, DPoP) and verified offline the way a
// resource server would, with jose against /jwks.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { discover, errorCode, eventually, oauthError } from './support.ts';

const API = 'https://orders.internal';
const API_TTL = 120;
const GRANTED = 'orders:read orders:write';

let server: RunningServer;
let tmp: string;

test.before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'latchkey-e2e-cc-'));
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'orders:read orders:write orders:admin', '--ttl', String(API_TTL), '--name', 'Orders']);
});

test.after.always(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Created { client_id: string; client_secret?: string }

const machineClient = (name: string, extra: string[] = []) =>
  server.admin<Created>(['clients', 'create', '--name', name, '--grant', 'client_credentials', '--api', API, '--scope', GRANTED, ...extra]);

/** What "another service" does with a bearer token: verify it offline against the issuer's JWKS. */
async function verifyAsResourceServer(token: string) {
  const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  return jose.jwtVerify(token, jwks, { issuer: server.issuer, audience: API, typ: 'at+jwt' });
}

async function assertMachineToken(t: ExecutionContext, tokens: client.TokenEndpointResponse, clientId: string, requested: string) {
  t.is(tokens.token_type.toLowerCase(), 'bearer');
  t.is(tokens.refresh_token, undefined, 'client_credentials must not issue a refresh token');
  t.is(tokens.id_token, undefined);
  t.is(tokens.expires_in, API_TTL);
  const { payload, protectedHeader } = await verifyAsResourceServer(tokens.access_token);
  t.is(protectedHeader.alg, 'ES256');
  t.is(protectedHeader.typ, 'at+jwt');
  t.is(typeof protectedHeader.kid, 'string');
  t.is(payload.iss, server.issuer);
  t.is(payload.aud, API);
  t.is(payload.client_id, clientId);
  t.is(payload.sub, clientId, 'RFC 9068: sub of a client_credentials token is the client');
  t.is(typeof payload.jti, 'string');
  t.is(payload.exp! - payload.iat!, API_TTL, 'lifetime is the API --ttl');
  const scopes = String(payload.scope).split(' ');
  t.deepEqual(scopes.sort(), requested.split(' ').sort());
  for (const scope of scopes) t.true(GRANTED.split(' ').includes(scope), `scope ${scope} was not granted`);
  t.is(payload.cnf, undefined, 'a bearer token has no confirmation claim');
  return payload;
}

test('client_secret_basic: a JWT access token another service verifies offline', async (t) => {
  const created = await machineClient('basic machine');
  t.is(typeof created.client_secret, 'string');
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
  await assertMachineToken(t, tokens, created.client_id, 'orders:read');
});

test('client_secret_post: a JWT access token with every granted scope asked for', async (t) => {
  const created = await machineClient('post machine', ['--auth', 'client_secret_post']);
  const config = await discover(server, created.client_id, client.ClientSecretPost(created.client_secret));
  const tokens = await client.clientCredentialsGrant(config, { scope: GRANTED });
  await assertMachineToken(t, tokens, created.client_id, GRANTED);

  const wrong = await discover(server, created.client_id, client.ClientSecretPost('not-the-secret'));
  t.is(await oauthError(client.clientCredentialsGrant(wrong, { scope: 'orders:read' })), 'invalid_client');
});

test('private_key_jwt: an ES256 client assertion with a key registered via --jwks-file', async (t) => {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const kid = 'machine-key-1';
  const jwksFile = join(tmp, 'machine-jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] }));
  const created = await machineClient('jwt machine', ['--auth', 'private_key_jwt', '--jwks-file', jwksFile]);
  t.is(created.client_secret, undefined, 'a private_key_jwt client gets no secret');

  const config = await discover(server, created.client_id, client.PrivateKeyJwt({ key: privateKey, kid }));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:write' });
  await assertMachineToken(t, tokens, created.client_id, 'orders:write');

  // An assertion signed with any other key is refused.
  const other = await jose.generateKeyPair('ES256');
  const forged = await discover(server, created.client_id, client.PrivateKeyJwt({ key: other.privateKey, kid }));
  t.is(await oauthError(client.clientCredentialsGrant(forged, { scope: 'orders:write' })), 'invalid_client');
});

test('a scope the client was not granted is refused, not silently dropped', async (t) => {
  const created = await machineClient('greedy machine');
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  t.is(await oauthError(client.clientCredentialsGrant(config, { scope: 'orders:read orders:admin' })), 'invalid_scope');
});

test('a token for another audience fails the resource server check', async (t) => {
  const created = await machineClient('audience machine');
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' });
  const jwks = jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`));
  await t.throwsAsync(jose.jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: 'https://billing.internal', typ: 'at+jwt' }),
    { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' });
});

test('DPoP: the token is bound to the client key (cnf.jkt)', async (t) => {
  const created = await machineClient('dpop machine');
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  const keyPair = await client.randomDPoPKeyPair('ES256');
  const DPoP = client.getDPoPHandle(config, keyPair);
  const tokens = await client.clientCredentialsGrant(config, { scope: 'orders:read' }, { DPoP });
  t.is(tokens.token_type.toLowerCase(), 'dpop');
  t.is(tokens.refresh_token, undefined);
  const { payload, protectedHeader } = await verifyAsResourceServer(tokens.access_token);
  t.is(protectedHeader.alg, 'ES256');
  t.is(payload.aud, API);
  t.is(payload.exp! - payload.iat!, API_TTL);
  const thumbprint = await jose.calculateJwkThumbprint(await jose.exportJWK(keyPair.publicKey));
  t.deepEqual(payload.cnf, { jkt: thumbprint });
});

test('rotate-secret with a grace period: old and new secrets both work', async (t) => {
  const created = await machineClient('rotating machine');
  const rotated = await server.admin<{ client_id: string; client_secret: string; previous_secret_expires_at: string | null }>(
    ['clients', 'rotate-secret', created.client_id, '--grace', '1h']);
  t.is(rotated.client_id, created.client_id);
  t.not(rotated.client_secret, created.client_secret);
  const graceEnds = Date.parse(rotated.previous_secret_expires_at ?? '');
  t.true(Math.abs(graceEnds - (Date.now() + 3600_000)) < 60_000, `grace ends ${rotated.previous_secret_expires_at}`);

  const fresh = await discover(server, created.client_id, client.ClientSecretBasic(rotated.client_secret));
  // Once the server has picked the rotation up, the new secret works...
  const tokens = await eventually('new secret accepted', () => client.clientCredentialsGrant(fresh, { scope: 'orders:read' }));
  await assertMachineToken(t, tokens, created.client_id, 'orders:read');
  // ...and so does the old one, until the grace period ends.
  const old = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  await assertMachineToken(t, await client.clientCredentialsGrant(old, { scope: 'orders:read' }), created.client_id, 'orders:read');
});

test('rotate-secret --grace 0: the old secret is refused at once', async (t) => {
  const created = await machineClient('revoking machine');
  const old = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  await client.clientCredentialsGrant(old, { scope: 'orders:read' }); // works before the rotation
  const rotated = await server.admin<{ client_secret: string; previous_secret_expires_at: string | null }>(
    ['clients', 'rotate-secret', created.client_id, '--grace', '0']);
  t.is(rotated.previous_secret_expires_at, null);

  const fresh = await discover(server, created.client_id, client.ClientSecretBasic(rotated.client_secret));
  const tokens = await eventually('new secret accepted', () => client.clientCredentialsGrant(fresh, { scope: 'orders:read' }));
  await assertMachineToken(t, tokens, created.client_id, 'orders:read');
  t.is(await oauthError(client.clientCredentialsGrant(old, { scope: 'orders:read' })), 'invalid_client');
});

test('clients delete: the client can no longer obtain tokens', async (t) => {
  const created = await machineClient('deleted machine');
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  await client.clientCredentialsGrant(config, { scope: 'orders:read' }); // works before
  await server.admin(['clients', 'delete', created.client_id]);
  const code = await eventually('deleted client refused', async () => {
    try {
      await client.clientCredentialsGrant(config, { scope: 'orders:read' });
      return undefined; // the server has not picked the deletion up yet: poll again
    } catch (caught) {
      return (await errorCode(caught)) ?? String(caught);
    }
  });
  t.is(code, 'invalid_client');
});

test('apis delete: a client that lost its only grant is told it may obtain tokens for no API', async (t) => {
  // Its grants are in the client's metadata in the Provider: the rebuild
  // after the change carries the loss (the deleted API alone would answer "unknown resource").
  const stock = 'https://stock.internal';
  await server.admin(['apis', 'create', '--identifier', stock, '--scope', 'stock:read']);
  const created = await server.admin<Created>(['clients', 'create', '--name', 'stock machine', '--grant', 'client_credentials', '--api', stock, '--scope', 'stock:read']);
  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  t.is((await client.clientCredentialsGrant(config, { scope: 'stock:read' })).expires_in, 300); // works before
  await server.admin(['apis', 'delete', stock]);
  const refusal = await eventually('lost grant applied', async () => {
    try {
      await client.clientCredentialsGrant(config, { scope: 'stock:read' });
    } catch (caught) {
      if (caught instanceof client.ResponseBodyError && caught.error_description === 'this client may not obtain tokens for any API') return caught;
    }
    return undefined;
  });
  t.is(refusal.error, 'invalid_target');
});
