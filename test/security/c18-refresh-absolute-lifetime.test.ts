// needs: postgres redis
// C18: a refresh token chain ends at the configured absolute lifetime,
// however often it is used (RFC 9700 §4.14.2: refresh tokens should expire;
// rotation must not extend the chain for ever). The server runs with
// REFRESH_TOKEN_ABSOLUTE_TTL=8s and REFRESH_TOKEN_IDLE_TTL=6s; the chain is
// kept busy (refreshed every 1.5 s, well inside the idle lifetime), so the
// final refusal can only come from the absolute cap.
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, introspect, refresh, signInForTokens, sleep,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

const ABSOLUTE_S = 8;
const IDLE_S = 6;

let server: RunningServer;
let client: RegisteredClient;
let user: User;

test.before(async () => {
  server = await startServer({ env: { REFRESH_TOKEN_ABSOLUTE_TTL: `${ABSOLUTE_S}s`, REFRESH_TOKEN_IDLE_TTL: `${IDLE_S}s` } });
  client = await createClient(server);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

const sleepUntil = (start: number, seconds: number) => sleep(Math.max(0, start + seconds * 1000 - Date.now()));

test('C18 refreshing past the absolute lifetime fails even when the chain was used all along', async (t) => {
  const issued = await signInForTokens(server, client, user);
  const start = Date.now();
  let refreshToken = issued.refresh_token!;
  t.truthy(refreshToken);

  for (const at of [1.5, 3, 4.5]) {
    await sleepUntil(start, at);
    const result = await refresh(server, client, refreshToken);
    t.is(result.status, 200, `refresh at ${at}s: ${result.text}`);
    if (result.status !== 200) return;
    t.not(result.body.refresh_token, refreshToken);
    refreshToken = result.body.refresh_token;
  }

  // 4.5 s since the last use (< idle 6 s) but past the 8 s cap.
  await sleepUntil(start, ABSOLUTE_S + 1);
  t.true(Date.now() - start < (4.5 + IDLE_S) * 1000, 'still inside the idle window: the test itself ran late');
  const late = await refresh(server, client, refreshToken);
  t.is(late.status, 400, late.text);
  t.is(late.body.error, 'invalid_grant');
  t.falsy(late.body.access_token);
  t.falsy(late.body.refresh_token);
});

test('C18 a refresh token unused for longer than the idle lifetime fails', async (t) => {
  const issued = await signInForTokens(server, client, user);
  await sleep((IDLE_S + 1.5) * 1000);
  const late = await refresh(server, client, issued.refresh_token!);
  t.is(late.status, 400, late.text);
  t.is(late.body.error, 'invalid_grant');
});

test('C18 expires_in of rotated refresh tokens never reaches past the absolute cap', async (t) => {
  // Introspection exp of each rotated token stays at or before the first token's iat + ABSOLUTE.
  const issued = await signInForTokens(server, client, user);
  const firstIat = Math.floor(Date.now() / 1000);
  await sleep(2000);
  const rotated = await refresh(server, client, issued.refresh_token!);
  t.is(rotated.status, 200, rotated.text);
  const info = await introspect(server, rotated.body.refresh_token, credentials(client));
  t.true(info.body.active);
  t.true(info.body.exp <= firstIat + ABSOLUTE_S + 1, `rotated token exp ${info.body.exp} is past first iat ${firstIat} + ${ABSOLUTE_S}s`);
});
