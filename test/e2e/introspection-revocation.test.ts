// needs: postgres redis
// RFC 7662 introspection and RFC 7009 revocation for every kind of token the
// server issues: opaque user access tokens (userinfo), JWT user access tokens
// (resource=<api>), refresh tokens and client_credentials tokens. A token is
// active with its claims until revoked, and inactive afterwards.
import test, { type ExecutionContext } from 'ava';
import * as client from 'openid-client';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser, discover, now, oauthError, type TestUser } from './support.ts';

const API = 'https://inventory.internal';
const API_TTL = 240;

let server: RunningServer;
let user: TestUser;
let web: { clientId: string; config: client.Configuration };
let machine: { clientId: string; config: client.Configuration };

test.before(async () => {
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'stock:read stock:write', '--ttl', String(API_TTL)]);
  const webClient = await createCodeClient(server, 'Inventory web', ['--grant', 'refresh_token', '--first-party', '--api', API, '--scope', 'stock:read']);
  web = { clientId: webClient.client_id, config: await discover(server, webClient.client_id, client.ClientSecretBasic(webClient.client_secret)) };
  const machineClient = await server.admin<{ client_id: string; client_secret: string }>([
    'clients', 'create', '--name', 'Inventory sync', '--grant', 'client_credentials', '--api', API, '--scope', 'stock:read stock:write',
  ]);
  machine = { clientId: machineClient.client_id, config: await discover(server, machineClient.client_id, client.ClientSecretBasic(machineClient.client_secret)) };
  user = await createUser(server, 'introspected');
});

test.after.always(async () => {
  await server?.stop();
});

/** A user grant: opaque userinfo access token (no resource) or a JWT for the API (resource=API). */
async function userTokens(kind: 'opaque' | 'jwt') {
  const parameters: Record<string, string> = kind === 'opaque' ? { scope: 'openid email' } : { scope: 'openid stock:read', resource: API };
  const { tokens } = await codeFlow(server, web.config, user, parameters);
  if (!tokens.refresh_token) throw new Error('expected a refresh token');
  return tokens as typeof tokens & { refresh_token: string };
}

function assertExp(t: ExecutionContext, exp: unknown, lifetime: number) {
  t.is(typeof exp, 'number');
  t.true((exp as number) > now() && (exp as number) <= now() + lifetime + 5, `exp ${exp} for a ${lifetime}s token`);
}

test('opaque user access token: active with scope, client_id, sub, exp; inactive after revocation', async (t) => {
  const tokens = await userTokens('opaque');
  t.is(tokens.access_token.split('.').length, 1, 'the userinfo access token is opaque');
  const active = await client.tokenIntrospection(web.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.true(active.active);
  t.is(active.client_id, web.clientId);
  t.is(active.sub, user.id);
  t.deepEqual(active.scope?.split(' ').sort(), ['email', 'openid']);
  t.is(active.token_type, 'Bearer');
  t.is(active.iss, server.issuer);
  assertExp(t, active.exp, 300);

  await client.tokenRevocation(web.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.deepEqual(await client.tokenIntrospection(web.config, tokens.access_token), { active: false });
  t.is(await oauthError(client.fetchUserInfo(web.config, tokens.access_token, user.id)), 'invalid_token');
});

test('JWT user access token (resource=<api>): active with aud = API; inactive after revocation', async (t) => {
  const tokens = await userTokens('jwt');
  t.is(tokens.access_token.split('.').length, 3, 'the API access token is a JWT');
  const active = await client.tokenIntrospection(web.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.true(active.active);
  t.is(active.client_id, web.clientId);
  t.is(active.sub, user.id);
  t.is(active.scope, 'stock:read');
  t.is(active.aud, API);
  assertExp(t, active.exp, API_TTL);

  await client.tokenRevocation(web.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.deepEqual(await client.tokenIntrospection(web.config, tokens.access_token), { active: false });
});

test('a user\'s JWT access token is inactive once its grant is revoked (refresh token revoked)', async (t) => {
  const tokens = await userTokens('jwt');
  t.true((await client.tokenIntrospection(web.config, tokens.access_token)).active);
  await client.tokenRevocation(web.config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  t.deepEqual(await client.tokenIntrospection(web.config, tokens.access_token), { active: false });
});

test('refresh token: active with scope, client_id, sub, exp; inactive after revocation, with its grant', async (t) => {
  const tokens = await userTokens('opaque');
  const active = await client.tokenIntrospection(web.config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  t.true(active.active);
  t.is(active.client_id, web.clientId);
  t.is(active.sub, user.id);
  t.deepEqual(active.scope?.split(' ').sort(), ['email', 'openid']);
  t.is(active.iss, server.issuer);
  t.is(typeof active.exp, 'number');
  t.true(active.exp! > now() + 3600, 'refresh tokens outlive access tokens');

  await client.tokenRevocation(web.config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  t.deepEqual(await client.tokenIntrospection(web.config, tokens.refresh_token), { active: false });
  t.is(await oauthError(client.refreshTokenGrant(web.config, tokens.refresh_token)), 'invalid_grant');
  // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
  t.deepEqual(await client.tokenIntrospection(web.config, tokens.access_token), { active: false });
});

test('client_credentials token: active with scope, client_id, aud = API, exp; inactive after revocation', async (t) => {
  const tokens = await client.clientCredentialsGrant(machine.config, { scope: 'stock:write' });
  const active = await client.tokenIntrospection(machine.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.true(active.active);
  t.is(active.client_id, machine.clientId);
  t.is(active.scope, 'stock:write');
  t.is(active.aud, API);
  assertExp(t, active.exp, API_TTL);

  await client.tokenRevocation(machine.config, tokens.access_token, { token_type_hint: 'access_token' });
  t.deepEqual(await client.tokenIntrospection(machine.config, tokens.access_token), { active: false });
});

test('introspection without a hint finds each kind of token', async (t) => {
  const opaque = await userTokens('opaque');
  t.true((await client.tokenIntrospection(web.config, opaque.access_token)).active);
  t.true((await client.tokenIntrospection(web.config, opaque.refresh_token)).active);
  const machineToken = await client.clientCredentialsGrant(machine.config, { scope: 'stock:read' });
  t.true((await client.tokenIntrospection(machine.config, machineToken.access_token)).active);
});

test('unknown and garbage tokens are inactive; revoking them is not an error', async (t) => {
  t.deepEqual(await client.tokenIntrospection(web.config, 'not-a-token-this-server-issued'), { active: false });
  await t.notThrowsAsync(client.tokenRevocation(web.config, 'not-a-token-this-server-issued'));
});

test('a client that cannot authenticate gets no introspection answer', async (t) => {
  const tokens = await userTokens('opaque');
  const wrong = await discover(server, web.clientId, client.ClientSecretBasic('wrong-secret'));
  t.is(await oauthError(client.tokenIntrospection(wrong, tokens.access_token)), 'invalid_client');
  t.is(await oauthError(client.tokenRevocation(wrong, tokens.access_token)), 'invalid_client');
  t.true((await client.tokenIntrospection(web.config, tokens.access_token)).active, 'the failed revocation changed nothing');
});
