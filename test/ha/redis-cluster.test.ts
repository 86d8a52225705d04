// needs: postgres
// Latchkey on a Redis Cluster (three masters started here, REDIS_CLUSTER_NODES):
// the code flow, refresh rotation with reuse detection, and revocation. Every
// script and MULTI of the stores must stay within one hash slot, or the
// cluster refuses it (CROSSSLOT) and these flows fail.
import test from 'ava';
import { Redis } from 'ioredis';
import * as client from 'openid-client';
import { codeFlow, createCodeClient, createUser, discover, oauthError, type TestUser } from '../e2e/support.ts';
import { startRedisCluster, type RedisClusterSetup } from '../helpers/redis-cluster.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

let cluster: RedisClusterSetup;
let server: RunningServer;
let config: client.Configuration;
let user: TestUser;

test.before(async () => {
  cluster = await startRedisCluster();
  server = await startServer({ env: { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.seeds } });
  const created = await createCodeClient(server, 'Cluster app', ['--grant', 'refresh_token', '--first-party']);
  config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  user = await createUser(server, 'cluster');
});

test.after.always(async () => {
  await server?.stop();
  await cluster?.dispose();
});

async function signedIn() {
  const { tokens } = await codeFlow(server, config, user, { scope: 'openid email' });
  if (!tokens.refresh_token) throw new Error('no refresh token');
  return tokens as typeof tokens & { refresh_token: string };
}

test('the code flow, refresh rotation and userinfo work, with keys on every master', async (t) => {
  const first = await signedIn();
  t.is(first.claims()?.sub, user.id);
  const second = await client.refreshTokenGrant(config, first.refresh_token);
  t.not(second.refresh_token, first.refresh_token);
  t.is((await client.fetchUserInfo(config, second.access_token, user.id)).email, user.email);
  t.is(await oauthError(client.refreshTokenGrant(config, first.refresh_token)), 'invalid_grant', 'a used refresh token is refused');

  // The data really is spread over the cluster, not on one node by accident.
  const prefix = server.env.REDIS_KEY_PREFIX;
  const counts = await Promise.all(cluster.nodes.map(async (node) => {
    const redis = new Redis({ port: node.port, host: '127.0.0.1' });
    try {
      return (await redis.keys(`${prefix}*`)).length;
    } finally {
      redis.disconnect();
    }
  }));
  t.true(counts.filter((count) => count > 0).length >= 2, `keys per master: ${counts.join(', ')}`);
});

test('reusing a rotated refresh token revokes the whole grant', async (t) => {
  const first = await signedIn();
  const second = await client.refreshTokenGrant(config, first.refresh_token);
  const third = await client.refreshTokenGrant(config, second.refresh_token!);
  t.true((await client.tokenIntrospection(config, third.refresh_token!)).active);
  t.true((await client.tokenIntrospection(config, third.access_token)).active);

  t.is(await oauthError(client.refreshTokenGrant(config, first.refresh_token)), 'invalid_grant');

  t.deepEqual(await client.tokenIntrospection(config, third.refresh_token!), { active: false });
  t.deepEqual(await client.tokenIntrospection(config, third.access_token), { active: false });
  t.deepEqual(await client.tokenIntrospection(config, second.access_token), { active: false });
  t.is(await oauthError(client.refreshTokenGrant(config, third.refresh_token!)), 'invalid_grant');
});

test('revoking a refresh token ends its grant; another grant of the same user lives on', async (t) => {
  const [doomed, kept] = [await signedIn(), await signedIn()];
  await client.tokenRevocation(config, doomed.refresh_token);
  t.deepEqual(await client.tokenIntrospection(config, doomed.refresh_token), { active: false });
  t.deepEqual(await client.tokenIntrospection(config, doomed.access_token), { active: false });
  t.is(await oauthError(client.refreshTokenGrant(config, doomed.refresh_token)), 'invalid_grant');
  t.true((await client.tokenIntrospection(config, kept.refresh_token)).active);
  const rotated = await client.refreshTokenGrant(config, kept.refresh_token);
  t.true((await client.tokenIntrospection(config, rotated.access_token)).active);
});
