// needs: postgres redis
// C12: an authorization code is redeemed once; a second redemption is
// refused with invalid_grant AND revokes what the first one issued (RFC 9700
// §4.5, RFC 6749 §4.1.2: "the authorization server ... SHOULD revoke (when
// possible) all tokens previously issued based on that authorization code").
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, introspect, obtainCode, redeemCode, refresh, userinfo,
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

test('C12 a second redemption of a code is invalid_grant and revokes the tokens of the first', async (t) => {
  const issued = await obtainCode(server, client, user);
  const first = await redeemCode(server, client, issued);
  t.is(first.status, 200, first.text);
  const { access_token: accessToken, refresh_token: refreshToken } = first.body;
  t.truthy(accessToken);
  t.truthy(refreshToken, 'the client is registered for refresh_token');
  // Before the replay the tokens are live: the checks below can only pass because of the replay.
  t.true((await introspect(server, accessToken, credentials(client))).body.active);
  t.true((await introspect(server, refreshToken, credentials(client))).body.active);

  const second = await redeemCode(server, client, issued);
  t.is(second.status, 400, second.text);
  t.is(second.body.error, 'invalid_grant');
  t.falsy(second.body.access_token);

  const access = await introspect(server, accessToken, credentials(client));
  t.is(access.status, 200);
  t.false(access.body.active, 'the access token of the first redemption is revoked');
  const refreshState = await introspect(server, refreshToken, credentials(client));
  t.is(refreshState.status, 200);
  t.false(refreshState.body.active, 'the refresh token of the first redemption is revoked');

  // And they are really unusable, not just reported inactive.
  t.is((await userinfo(server, accessToken)).status, 401);
  const refreshed = await refresh(server, client, refreshToken);
  t.is(refreshed.status, 400, refreshed.text);
  t.is(refreshed.body.error, 'invalid_grant');
});

test('C12 a third attempt (replay after the revocation) is still invalid_grant', async (t) => {
  const issued = await obtainCode(server, client, user);
  t.is((await redeemCode(server, client, issued)).status, 200);
  for (let attempt = 0; attempt < 2; attempt++) {
    const again = await redeemCode(server, client, issued);
    t.is(again.status, 400, again.text);
    t.is(again.body.error, 'invalid_grant');
  }
});

test('C12 concurrent redemptions of one code: at most one succeeds', async (t) => {
  const issued = await obtainCode(server, client, user);
  const results = await Promise.all(Array.from({ length: 8 }, () => redeemCode(server, client, issued)));
  const successes = results.filter((r) => r.status === 200);
  t.true(successes.length <= 1, `${successes.length} of 8 concurrent redemptions got tokens`);
  for (const failure of results.filter((r) => r.status !== 200)) {
    t.is(failure.status, 400, failure.text);
    t.is(failure.body.error, 'invalid_grant');
  }
  // Whatever a racing redemption got must not stay usable once the reuse was seen.
  for (const success of successes) {
    t.false((await introspect(server, success.body.access_token, credentials(client))).body.active);
  }
});
