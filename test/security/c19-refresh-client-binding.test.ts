// needs: postgres redis
// C19: a refresh token works only for the client it was issued to
// (RFC 6749 §6: "the refresh token is bound to the client to which it was
// issued"; RFC 9700 §4.14.2). Each refusal is preceded by proof that the
// token was live at that moment.
import test, { type ExecutionContext } from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, introspect, refresh, signInForTokens, tokenRequest,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

let server: RunningServer;
let clientA: RegisteredClient;
let clientB: RegisteredClient;
let publicC: RegisteredClient;
let user: User;

test.before(async () => {
  server = await startServer();
  clientA = await createClient(server);
  clientB = await createClient(server);
  publicC = await createClient(server, ['--public', '--grant', 'authorization_code', '--grant', 'refresh_token']);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

async function liveRefreshTokenOfA(t: ExecutionContext): Promise<string> {
  const tokens = await signInForTokens(server, clientA, user);
  const state = await introspect(server, tokens.refresh_token!, credentials(clientA));
  t.true(state.body.active, 'A\'s refresh token is live before the attempt');
  return tokens.refresh_token!;
}

test('C19 client B (confidential) using A\'s refresh token: invalid_grant', async (t) => {
  const stolen = await liveRefreshTokenOfA(t);
  const result = await refresh(server, clientB, stolen);
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_grant');
  t.falsy(result.body.access_token);
  t.falsy(result.body.refresh_token);
});

test('C19 a public client using A\'s refresh token: invalid_grant', async (t) => {
  const stolen = await liveRefreshTokenOfA(t);
  const result = await refresh(server, publicC, stolen);
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_grant');
  t.falsy(result.body.access_token);
});

test('C19 B with A\'s client_id in the body but B\'s credentials: refused, no tokens', async (t) => {
  const stolen = await liveRefreshTokenOfA(t);
  const result = await tokenRequest(server, { grant_type: 'refresh_token', refresh_token: stolen, client_id: clientA.client_id }, credentials(clientB));
  t.true(result.status === 400 || result.status === 401, result.text);
  t.true(['invalid_grant', 'invalid_request', 'invalid_client'].includes(result.body.error), result.text);
  t.falsy(result.body.access_token);
});

test('C19 a public client\'s refresh token cannot be used by a confidential client either', async (t) => {
  const tokens = await signInForTokens(server, publicC, user);
  t.truthy(tokens.refresh_token);
  const result = await refresh(server, clientA, tokens.refresh_token!);
  t.is(result.status, 400, result.text);
  t.is(result.body.error, 'invalid_grant');
  t.falsy(result.body.access_token);
  // Still the public client's own token (control).
  const own = await refresh(server, publicC, tokens.refresh_token!);
  t.is(own.status, 200, own.text);
});
