// needs: postgres redis
// C17: refresh tokens rotate on every use, and replaying a used one is
// treated as theft (RFC 9700 §4.14.2): invalid_grant, and the whole grant is
// revoked, including the refresh and access tokens the rotation produced.
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, introspect, refresh, signInForTokens, userinfo,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

let server: RunningServer;
let client: RegisteredClient;
let user: User;

test.before(async () => {
  server = await startServer();
  client = await createClient(server);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

const active = async (token: string) => {
  const result = await introspect(server, token, credentials(client));
  if (result.status !== 200) throw new Error(`introspection answered ${result.status}: ${result.text}`);
  return result.body.active === true;
};

test('C17 every refresh returns a new refresh token and retires the old one', async (t) => {
  const first = await signInForTokens(server, client, user);
  t.truthy(first.refresh_token);
  const second = await refresh(server, client, first.refresh_token!);
  t.is(second.status, 200, second.text);
  t.truthy(second.body.refresh_token);
  t.not(second.body.refresh_token, first.refresh_token);
  t.not(second.body.access_token, first.access_token);
  t.false(await active(first.refresh_token!), 'the used refresh token is no longer active');
  t.true(await active(second.body.refresh_token));

  const third = await refresh(server, client, second.body.refresh_token);
  t.is(third.status, 200, third.text);
  t.not(third.body.refresh_token, second.body.refresh_token);
});

test('C17 replaying a used refresh token is invalid_grant and revokes the tokens that replaced it', async (t) => {
  const first = await signInForTokens(server, client, user);
  const rotated = await refresh(server, client, first.refresh_token!);
  t.is(rotated.status, 200, rotated.text);
  const { refresh_token: newRefresh, access_token: newAccess } = rotated.body;
  // Live before the replay, so the assertions after it test the replay.
  t.true(await active(newRefresh));
  t.true(await active(newAccess));

  const replay = await refresh(server, client, first.refresh_token!);
  t.is(replay.status, 400, replay.text);
  t.is(replay.body.error, 'invalid_grant');
  t.falsy(replay.body.access_token);

  t.false(await active(newRefresh), 'the rotated refresh token is revoked');
  t.false(await active(newAccess), 'the access token from the rotation is revoked');
  t.false(await active(first.access_token), 'the original access token is revoked');
  const reuse = await refresh(server, client, newRefresh);
  t.is(reuse.status, 400, reuse.text);
  t.is(reuse.body.error, 'invalid_grant');
  t.is((await userinfo(server, newAccess)).status, 401);
});

test('C17 the legitimate holder loses the chain too when the thief refreshes first', async (t) => {
  // The attacker uses the stolen token first; the victim's later (now "replayed") use must kill the attacker's tokens.
  const victim = await signInForTokens(server, client, user);
  const attacker = await refresh(server, client, victim.refresh_token!);
  t.is(attacker.status, 200, attacker.text);
  const victimTry = await refresh(server, client, victim.refresh_token!);
  t.is(victimTry.status, 400, victimTry.text);
  t.is(victimTry.body.error, 'invalid_grant');
  t.false(await active(attacker.body.refresh_token));
  t.false(await active(attacker.body.access_token));
});

test('C17 concurrent uses of one refresh token: at most one gets a new token, and the chain cannot fork', async (t) => {
  const first = await signInForTokens(server, client, user);
  const results = await Promise.all(Array.from({ length: 8 }, () => refresh(server, client, first.refresh_token!)));
  const successes = results.filter((r) => r.status === 200);
  t.true(successes.length <= 1, `${successes.length} of 8 concurrent refreshes with the same token succeeded`);
  for (const failure of results.filter((r) => r.status !== 200)) {
    t.is(failure.status, 400, failure.text);
    t.is(failure.body.error, 'invalid_grant');
  }
  const live = [];
  for (const success of successes) if (await active(success.body.refresh_token)) live.push(success.body.refresh_token);
  t.true(live.length <= 1, `${live.length} parallel refresh tokens are live`);
});
