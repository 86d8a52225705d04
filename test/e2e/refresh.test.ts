// needs: postgres redis
// Refresh tokens end to end: each use rotates the token, a used one is
// refused, and replaying a used one (reuse detection) revokes the whole grant.
import test from 'ava';
import * as client from 'openid-client';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser, discover, oauthError, type TestUser } from './support.ts';

let server: RunningServer;
let config: client.Configuration;
let clientId: string;
let user: TestUser;

test.before(async () => {
  server = await startServer();
  const created = await createCodeClient(server, 'Refreshing app', ['--grant', 'refresh_token', '--first-party']);
  clientId = created.client_id;
  config = await discover(server, clientId, client.ClientSecretBasic(created.client_secret));
  user = await createUser(server, 'refresh');
});

test.after.always(async () => {
  await server?.stop();
});

/** A fresh grant: sign in and redeem the code. */
async function signedIn() {
  const { tokens } = await codeFlow(server, config, user, { scope: 'openid email' });
  if (!tokens.refresh_token) throw new Error('a client registered with refresh_token must get a refresh token');
  return tokens as typeof tokens & { refresh_token: string };
}

test('each refresh returns a new refresh token; a used one is refused with invalid_grant', async (t) => {
  const first = await signedIn();
  t.is(typeof first.refresh_token, 'string');

  const second = await client.refreshTokenGrant(config, first.refresh_token);
  t.truthy(second.refresh_token);
  t.not(second.refresh_token, first.refresh_token, 'the refresh token rotates');
  t.not(second.access_token, first.access_token);
  t.is(second.claims()?.sub, user.id, 'the refreshed ID token is for the same user');
  t.is((await client.fetchUserInfo(config, second.access_token, user.id)).email, user.email);

  const third = await client.refreshTokenGrant(config, second.refresh_token!);
  t.truthy(third.refresh_token);
  t.not(third.refresh_token, second.refresh_token);
  t.not(third.refresh_token, first.refresh_token);
  t.is((await client.fetchUserInfo(config, third.access_token, user.id)).sub, user.id);

  t.is(await oauthError(client.refreshTokenGrant(config, second.refresh_token!)), 'invalid_grant');
});

test('reusing a rotated refresh token revokes the whole grant', async (t) => {
  const first = await signedIn();
  const second = await client.refreshTokenGrant(config, first.refresh_token);
  const latestRefresh = second.refresh_token!;
  const latestAccess = second.access_token;

  // Before the replay the latest tokens are live.
  const before = await client.tokenIntrospection(config, latestRefresh);
  t.true(before.active);
  t.is(before.client_id, clientId);
  t.is(before.sub, user.id);
  t.true((await client.tokenIntrospection(config, latestAccess)).active);

  // An attacker replays the stolen, already-used refresh token.
  t.is(await oauthError(client.refreshTokenGrant(config, first.refresh_token)), 'invalid_grant');

  // The whole grant is gone: the legitimate client's latest tokens are dead too.
  t.deepEqual(await client.tokenIntrospection(config, latestRefresh), { active: false });
  t.deepEqual(await client.tokenIntrospection(config, latestAccess), { active: false });
  t.deepEqual(await client.tokenIntrospection(config, first.access_token), { active: false });
  t.is(await oauthError(client.refreshTokenGrant(config, latestRefresh)), 'invalid_grant');
  t.is(await oauthError(client.fetchUserInfo(config, latestAccess, user.id)), 'invalid_token');
});

test('a refresh token is bound to its client', async (t) => {
  const tokens = await signedIn();
  const other = await createCodeClient(server, 'Other app', ['--grant', 'refresh_token', '--first-party']);
  const otherConfig = await discover(server, other.client_id, client.ClientSecretBasic(other.client_secret));
  t.is(await oauthError(client.refreshTokenGrant(otherConfig, tokens.refresh_token)), 'invalid_grant');
  // Still usable by its own client.
  t.truthy((await client.refreshTokenGrant(config, tokens.refresh_token)).refresh_token);
});
