// needs: postgres redis
// Two real Latchkey processes sharing one Postgres and one Redis prefix: each
// caches the accounts its refresh, userinfo and introspection read
// (server/accounts/account-cache.ts). A change made elsewhere (the CLI, here
// run as node A's operator would) is seen by node B on its very next request:
// the per-account version in Redis is compared on every use, so no
// invalidation message can be missed.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { createTestDatabase, uniqueRedisPrefix, type TestDatabase } from '../helpers/services.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser, discover, oauthError } from '../e2e/support.ts';

let database: TestDatabase;
let nodeA: RunningServer;
let nodeB: RunningServer;
let web: client.Configuration;

test.before(async () => {
  database = await createTestDatabase();
  const shared = { REDIS_KEY_PREFIX: uniqueRedisPrefix(), LATCHKEY_SECRET: randomBytes(32).toString('base64') };
  [nodeA, nodeB] = await Promise.all([startServer({ database, env: shared }), startServer({ database, env: shared })]);
  const created = await createCodeClient(nodeA, 'Two nodes', ['--grant', 'refresh_token', '--first-party']);
  // The client reaches node B through its admin-change watcher.
  web = await discover(nodeB, created.client_id, client.ClientSecretBasic(created.client_secret!));
});

test.after.always(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await database?.drop();
});

/** A user signed in on node B, whose refresh, userinfo and introspection have cached the account there. */
async function cachedOnNodeB(label: string) {
  const user = await createUser(nodeA, label);
  const { tokens } = await codeFlow(nodeB, web, user, { scope: 'openid email offline_access', prompt: 'consent' });
  const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token!);
  t_assert((await client.fetchUserInfo(web, refreshed.access_token, user.id)).sub === user.id, 'userinfo works before the change');
  t_assert((await client.tokenIntrospection(web, refreshed.refresh_token!)).active === true, 'introspection works before the change');
  return { user, refreshed };
}

function t_assert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(what);
}

test('a user disabled with the CLI is refused by the other node at once: refresh, userinfo, introspection', async (t) => {
  const { user, refreshed } = await cachedOnNodeB('disabled');
  await nodeA.admin(['users', 'disable', user.email]);
  // No wait: the very next request on node B.
  t.false((await client.tokenIntrospection(web, refreshed.refresh_token!)).active);
  t.is(await oauthError(client.fetchUserInfo(web, refreshed.access_token, user.id)), 'invalid_token');
  t.is(await oauthError(client.refreshTokenGrant(web, refreshed.refresh_token!)), 'invalid_grant');
});

test('a sign-out everywhere, a password change and a delete made with the CLI are seen by the other node at once', async (t) => {
  for (const change of [
    (email: string) => ['users', 'sign-out', email],
    (email: string) => ['users', 'set-password', email, '--password-stdin'],
    (email: string) => ['users', 'delete', email],
  ]) {
    const { user, refreshed } = await cachedOnNodeB(change('x')[1]);
    // Issue times have whole seconds: a token of the sign-out's own second counts as after it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const args = change(user.email);
    await nodeA.admin(args, args.includes('--password-stdin') ? { stdin: `Nw-${randomBytes(12).toString('base64url')}` } : undefined);
    t.is(await oauthError(client.fetchUserInfo(web, refreshed.access_token, user.id)), 'invalid_token', args.join(' '));
    t.is(await oauthError(client.refreshTokenGrant(web, refreshed.refresh_token!)), 'invalid_grant', args.join(' '));
  }
});
