// needs: postgres redis
// C20: revocation works. RFC 7009 at /token/revocation makes introspection
// answer active: false, whatever the token_type_hint; and so do the CLI's
// revocation paths.
//
// The CLI has no `latchkey tokens revoke <token>` (nor `users revoke-sessions`):
// the admin paths that end tokens are `users disable` (the account's tokens)
// and `clients delete` (the client's tokens), both tested here.
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, introspect, refresh, revoke, signInForTokens, userinfo, waitFor,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

let server: RunningServer;
let client: RegisteredClient;
let other: RegisteredClient;
let user: User;

test.before(async () => {
  server = await startServer();
  client = await createClient(server);
  other = await createClient(server);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

async function activeFor(token: string, by: RegisteredClient = client): Promise<boolean> {
  const result = await introspect(server, token, credentials(by));
  if (result.status !== 200) throw new Error(`introspection answered ${result.status}: ${result.text}`);
  return result.body.active === true;
}

test('C20 revoking an access token makes it inactive and unusable', async (t) => {
  const tokens = await signInForTokens(server, client, user);
  t.true(await activeFor(tokens.access_token));
  const result = await revoke(server, tokens.access_token, credentials(client), 'access_token');
  t.is(result.status, 200, result.text);
  t.false(await activeFor(tokens.access_token));
  t.is((await userinfo(server, tokens.access_token)).status, 401);
});

test('C20 revoking a refresh token makes it inactive, unusable, and ends the grant\'s access tokens', async (t) => {
  const tokens = await signInForTokens(server, client, user);
  t.true(await activeFor(tokens.refresh_token!));
  t.true(await activeFor(tokens.access_token));
  const result = await revoke(server, tokens.refresh_token!, credentials(client), 'refresh_token');
  t.is(result.status, 200, result.text);
  t.false(await activeFor(tokens.refresh_token!));
  const refreshed = await refresh(server, client, tokens.refresh_token!);
  t.is(refreshed.status, 400, refreshed.text);
  t.is(refreshed.body.error, 'invalid_grant');
  // RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate the access tokens of the same grant.
  t.false(await activeFor(tokens.access_token));
});

test('C20 the token_type_hint is only a hint: no hint or a wrong hint still revokes', async (t) => {
  const a = await signInForTokens(server, client, user);
  t.is((await revoke(server, a.refresh_token!, credentials(client))).status, 200);
  t.false(await activeFor(a.refresh_token!), 'no hint');

  const b = await signInForTokens(server, client, user);
  t.is((await revoke(server, b.refresh_token!, credentials(client), 'access_token')).status, 200);
  t.false(await activeFor(b.refresh_token!), 'refresh token with hint access_token');

  const c = await signInForTokens(server, client, user);
  t.is((await revoke(server, c.access_token, credentials(client), 'refresh_token')).status, 200);
  t.false(await activeFor(c.access_token), 'access token with hint refresh_token');
});

test('C20 revoking an unknown or already revoked token answers 200 (RFC 7009 §2.2)', async (t) => {
  const unknown = await revoke(server, 'not-a-token-this-server-issued', credentials(client));
  t.is(unknown.status, 200, unknown.text);
  const tokens = await signInForTokens(server, client, user);
  t.is((await revoke(server, tokens.access_token, credentials(client))).status, 200);
  t.is((await revoke(server, tokens.access_token, credentials(client))).status, 200);
});

test('C20 a client cannot revoke another client\'s token', async (t) => {
  const tokens = await signInForTokens(server, client, user);
  const result = await revoke(server, tokens.refresh_token!, credentials(other));
  t.not(result.status, 500, result.text);
  t.true(await activeFor(tokens.refresh_token!), 'the owner\'s refresh token survives another client\'s revocation request');
  t.true(await activeFor(tokens.access_token));
});

test('C20 after `latchkey clients delete`, introspecting that client\'s tokens answers 200 active:false', async (t) => {
  const doomed = await createClient(server);
  await adminChangesApplied(server);
  const tokens = await signInForTokens(server, doomed, user);
  t.true(await activeFor(tokens.access_token, doomed));
  // `--` because a client_id may start with "-" (see the C20 report: the CLI then takes it for an option).
  const deleted = await server.cli(['clients', 'delete', '--json', '--', doomed.client_id]);
  t.is(deleted.code, 0, deleted.stderr);
  // The deletion reaches the server within ~1 s; poll (without touching the real tokens) until the
  // token endpoint no longer authenticates the client.
  const gone = await waitFor(async () => (await refresh(server, doomed, 'no-such-refresh-token')).status === 401, 5000);
  t.true(gone, 'the deleted client still authenticates');

  for (const [label, token] of [['access token', tokens.access_token], ['refresh token', tokens.refresh_token!]]) {
    // The deleted client can no longer ask; any other client hears "inactive".
    t.is((await introspect(server, token, credentials(doomed))).status, 401, `${label}: the deleted client authenticates`);
    const result = await introspect(server, token, credentials(other));
    t.is(result.status, 200, `${label}: ${result.text}`);
    t.false(result.body.active, `${label} of a deleted client`);
  }
  t.is((await userinfo(server, tokens.access_token)).status, 401);
});

test('C20 a client learns nothing about another client\'s live tokens at introspection', async (t) => {
  const tokens = await signInForTokens(server, client, user);
  t.true(await activeFor(tokens.access_token, client));
  for (const token of [tokens.access_token, tokens.refresh_token!]) {
    const result = await introspect(server, token, credentials(other));
    t.is(result.status, 200, result.text);
    t.deepEqual(result.body, { active: false });
  }
});

test('C20 after `latchkey users disable`, the user\'s tokens are inactive and unusable', async (t) => {
  const victim = await createUser(server);
  const tokens = await signInForTokens(server, client, victim);
  t.true(await activeFor(tokens.access_token));
  t.true(await activeFor(tokens.refresh_token!));
  await server.admin(['users', 'disable', victim.email]);
  const inactive = await waitFor(async () => !(await activeFor(tokens.access_token)), 5000);
  t.true(inactive, 'the disabled user\'s access token is still active at introspection');
  t.false(await activeFor(tokens.refresh_token!), 'refresh token of a disabled user');
  t.false(await activeFor(tokens.access_token, other), 'also when another client introspects');
  t.is((await userinfo(server, tokens.access_token)).status, 401);
  const refreshed = await refresh(server, client, tokens.refresh_token!);
  t.is(refreshed.status, 400, refreshed.text);
  t.is(refreshed.body.error, 'invalid_grant');
});
