// needs: postgres redis
// C22: a machine client gets only what it was granted: a scope outside its
// grant is invalid_scope (not silently dropped), no refresh token is issued
// (RFC 6749 §4.4.3), and the RFC 9068 JWT names the API as its audience.
import test from 'ava';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createApi, createClient, credentials, decodeJwt, tokenRequest,
  type RegisteredClient,
} from './_support-tokens.ts';

let server: RunningServer;
let orders: { identifier: string };
let billing: { identifier: string };
let machine: RegisteredClient;
let twoApis: RegisteredClient;

test.before(async () => {
  server = await startServer();
  orders = await createApi(server, 'orders:read orders:write');
  billing = await createApi(server, 'billing:read');
  machine = await createClient(server, ['--grant', 'client_credentials', '--api', orders.identifier, '--scope', 'orders:read']);
  twoApis = await createClient(server, ['--grant', 'client_credentials', '--api', orders.identifier, '--api', billing.identifier, '--scope', 'orders:read billing:read']);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

const clientCredentials = (client: RegisteredClient, form: Record<string, string | undefined> = {}) =>
  tokenRequest(server, { grant_type: 'client_credentials', ...form }, credentials(client));

async function verifyAccessToken(token: string) {
  const jwks = await (await fetch(`${server.issuer}/jwks`)).json();
  return jwtVerify(token, createLocalJWKSet(jwks), { issuer: server.issuer, typ: 'at+jwt', algorithms: ['ES256', 'RS256'] });
}

test('C22 a scope the API offers but the client was not granted: invalid_scope', async (t) => {
  const result = await clientCredentials(machine, { scope: 'orders:write' });
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_scope');
  t.falsy(result.body.access_token);
});

test('C22 a granted scope plus an ungranted one: invalid_scope, not a narrowed token', async (t) => {
  const result = await clientCredentials(machine, { scope: 'orders:read orders:write' });
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_scope');
  t.falsy(result.body.access_token);
});

test('C22 a scope no API offers, or another API\'s scope: invalid_scope', async (t) => {
  for (const scope of ['admin', 'billing:read', 'openid', 'offline_access']) {
    const result = await clientCredentials(machine, { scope });
    t.is(result.status, 400, `${scope}: ${result.text}`);
    t.is(result.body.error, 'invalid_scope', scope);
    t.falsy(result.body.access_token, scope);
  }
});

test('C22 a granted scope: a JWT for the API, aud = the API, no refresh token', async (t) => {
  const result = await clientCredentials(machine, { scope: 'orders:read' });
  t.is(result.status, 200, result.text);
  t.falsy(result.body.refresh_token, 'client_credentials never gets a refresh token');
  t.falsy(result.body.id_token);
  t.is(result.body.token_type, 'Bearer');
  t.is(result.body.scope, 'orders:read');
  const { payload, protectedHeader } = await verifyAccessToken(result.body.access_token);
  t.is(protectedHeader.typ, 'at+jwt');
  t.is(payload.aud, orders.identifier);
  t.is(payload.client_id, machine.client_id);
  t.is(payload.sub, machine.client_id);
  t.is(payload.scope, 'orders:read');
  t.truthy(payload.jti);
  t.true(payload.exp! > payload.iat!);
});

test('C22 no scope asked: the token carries the granted scopes only', async (t) => {
  const result = await clientCredentials(machine);
  t.is(result.status, 200, result.text);
  t.falsy(result.body.refresh_token);
  const { payload } = decodeJwt(result.body.access_token);
  t.is(payload.aud, orders.identifier);
  t.false(String(payload.scope ?? '').split(' ').includes('orders:write'));
});

test('C22 a client with several APIs gets the audience it names, and only that API\'s scopes', async (t) => {
  const result = await clientCredentials(twoApis, { resource: billing.identifier, scope: 'billing:read' });
  t.is(result.status, 200, result.text);
  const { payload } = await verifyAccessToken(result.body.access_token);
  t.is(payload.aud, billing.identifier);
  t.is(payload.scope, 'billing:read');
  // A scope of the other API, asked with this API as the resource, is not granted on it.
  const mixed = await clientCredentials(twoApis, { resource: billing.identifier, scope: 'orders:read' });
  t.is(mixed.status, 400, mixed.text);
  t.is(mixed.body.error, 'invalid_scope');
});

test('C22 an API the client was not granted: refused, no token', async (t) => {
  const result = await clientCredentials(machine, { resource: billing.identifier, scope: 'billing:read' });
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_target');
  t.falsy(result.body.access_token);
});

test('C22 a client_credentials-only client gets no tokens from refresh_token or authorization_code', async (t) => {
  for (const form of [
    { grant_type: 'refresh_token', refresh_token: 'anything' },
    { grant_type: 'authorization_code', code: 'anything', redirect_uri: 'https://x.example.com/cb', code_verifier: 'x'.repeat(43) },
  ]) {
    const result = await tokenRequest(server, form, credentials(machine));
    // Refused before the grant is looked at. (RFC 6749 §5.2 names this unauthorized_client; oidc-provider
    // answers invalid_request. The error code is C11's concern, the absence of tokens is this row's.)
    t.is(result.status, 400, `${form.grant_type}: ${result.text}`);
    t.true(['unauthorized_client', 'invalid_request'].includes(result.body.error), result.text);
    t.falsy(result.body.access_token);
  }
});
