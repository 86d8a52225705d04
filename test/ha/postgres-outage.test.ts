// needs: postgres redis
// Drill "Postgres stop and start" (and "Postgres hung"): a real Latchkey
// process whose DATABASE_URL goes through a TCP proxy that can play a stopped
// Postgres (connections closed, the port refuses) or a hung one (connections
// accepted, nothing answered). The shared Postgres itself is never touched.
// While it is out: client_credentials keeps working (a client created just
// before the outage too), refresh, userinfo and introspection of an account
// already cached work, readiness names the database within 1 s, and a
// sign-in answers a 503 page within a few seconds. Afterwards everything
// recovers without a restart. The measured numbers are printed (t.log).
import test from 'ava';
import * as client from 'openid-client';
import { basicAuth } from '../helpers/oidc-http.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/tcp-blackhole-proxy.ts';
import { t as text } from '../../views/strings.ts';
import { authorizationRequest, codeFlow, createCodeClient, createUser, discover, eventually, type TestUser } from '../e2e/support.ts';
import { adminCacheAge, appliedGeneration, attemptSignIn, databaseGeneration, readiness, timed } from './postgres-support.ts';

let database: TestDatabase;
let proxy: BlackholeProxy;
let server: RunningServer;
let web: client.Configuration;
let user: TestUser;

const API = 'https://orders.drill';
interface Machine { client_id: string; client_secret: string }

test.before(async () => {
  database = await createTestDatabase();
  const { hostname, port } = new URL(database.url);
  proxy = await startBlackholeProxy({ host: hostname, port: Number(port || 5432) });
  // The default timeouts: what an operator gets.
  server = await startServer({ database: { url: proxy.url(database.url), drop: async () => {} } });
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'orders:read']);
  const created = await createCodeClient(server, 'Drill app', ['--grant', 'refresh_token', '--first-party']);
  web = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret!));
  user = await createUser(server, 'drill');
});

test.after.always(async () => {
  await server?.stop();
  await proxy?.close();
  await database?.drop();
});

const machineClient = (api: string) =>
  server.admin<Machine>(['clients', 'create', '--name', `machine ${api}`, '--grant', 'client_credentials', '--api', api, '--scope', 'orders:read']);

async function machineToken(machine: Machine): Promise<{ status: number; ms: number }> {
  const { value, ms } = await timed(() => fetch(`${server.origin}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(machine.client_id, machine.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
    signal: AbortSignal.timeout(20_000),
  }));
  await value.arrayBuffer();
  return { status: value.status, ms };
}

/** Waits until the server serves the newest admin change (its rebuild is complete). */
const applied = async () => {
  const newest = await databaseGeneration(database.url);
  await eventually('the admin change applied', async () => ((await appliedGeneration(server)) === newest ? true : undefined));
};

/** Signs in (the account is now cached) and returns the tokens. */
async function signedIn() {
  const { tokens } = await codeFlow(server, web, user, { scope: 'openid email offline_access', prompt: 'consent' });
  if (!tokens.refresh_token) throw new Error('no refresh token');
  return tokens as typeof tokens & { refresh_token: string };
}

/** Readiness polled until it reports the database; every probe's latency. */
async function readinessReportsDatabase(timeoutMs: number) {
  const started = Date.now();
  const probes: number[] = [];
  for (;;) {
    const probe = await readiness(server);
    probes.push(probe.ms);
    if (probe.status === 503 && probe.body.failed?.postgres) return { probe, probes, afterMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`readiness still ${probe.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function recovery(t: import('ava').ExecutionContext) {
  const started = Date.now();
  await eventually('readiness 200 again', async () => ((await readiness(server)).status === 200 ? true : undefined), 15_000);
  const readyMs = Date.now() - started;
  // A sign-in works again, and so does an admin change (the watcher recovered).
  await signedIn();
  const signInMs = Date.now() - started;
  await server.admin(['apis', 'create', '--identifier', `${API}/after-${started}`, '--scope', 'orders:read']);
  const after = await machineClient(`${API}/after-${started}`);
  await applied();
  t.is((await machineToken(after)).status, 200);
  t.log(`recovery: readiness 200 after ${readyMs} ms, a full sign-in done after ${signInMs} ms, an admin change applied after ${Date.now() - started} ms`);
}

test.serial('Postgres stopped: the token path serves from its caches, readiness and sign-in say 503 at once, and all recovers without a restart', async (t) => {
  const machine = await machineClient(API);
  const tokens = await signedIn();
  // An admin change just before the outage: a new API and a client of it.
  await server.admin(['apis', 'create', '--identifier', `${API}/late`, '--scope', 'orders:read']);
  const late = await machineClient(`${API}/late`);
  await applied();

  await proxy.stop();
  const stoppedAt = Date.now();

  const ready = await readinessReportsDatabase(3_000);
  t.true(ready.probes.every((ms) => ms < 1_000), `every readiness probe answered within 1 s: ${ready.probes.join(', ')} ms`);
  t.truthy(ready.probe.body.failed?.postgres);

  // Several admin-change checks have failed by now (the age grows past
  // CACHE_REFRESH_INTERVAL): the snapshot loaded before is still the one served.
  await eventually('the admin checks failing', async () => (((await adminCacheAge(server)) ?? 0) > 2.5 ? true : undefined), 10_000);

  const tokenLatencies: number[] = [];
  for (const m of [machine, late, machine, late]) {
    const answer = await machineToken(m);
    t.is(answer.status, 200, `client_credentials for ${m.client_id}`);
    tokenLatencies.push(answer.ms);
  }

  const refresh = await timed(() => client.refreshTokenGrant(web, tokens.refresh_token));
  t.truthy(refresh.value.access_token);
  const userinfo = await timed(() => client.fetchUserInfo(web, refresh.value.access_token, user.id));
  t.is(userinfo.value.email, user.email);
  const introspection = await timed(() => client.tokenIntrospection(web, refresh.value.refresh_token!));
  t.true(introspection.value.active);

  const request = await authorizationRequest(web, { scope: 'openid' });
  const attempt = await attemptSignIn(server, request.url.toString(), user.email, user.password);
  t.is(attempt.status, 503);
  t.true(attempt.html.includes(text('error.503')), 'the page says to try again');
  t.true(attempt.ms < 5_000, `the sign-in answered within 5 s (${attempt.ms} ms)`);

  t.log(`stopped: readiness 503 naming postgres ${ready.afterMs} ms after the stop (probes ${ready.probes.join(', ')} ms; "${ready.probe.body.failed?.postgres}")`);
  t.log(`stopped: client_credentials ${tokenLatencies.join(', ')} ms; refresh ${refresh.ms} ms, userinfo ${userinfo.ms} ms, introspection ${introspection.ms} ms; sign-in 503 page in ${attempt.ms} ms`);
  t.log(`outage lasted ${Date.now() - stoppedAt} ms`);

  await proxy.start();
  await recovery(t);
});

test.serial('Postgres hung: readiness within 1 s, the sign-in gives up with a 503 page within a few seconds, the token path keeps serving', async (t) => {
  const machine = await machineClient(API);
  const tokens = await signedIn();
  await applied();

  proxy.hang();
  const ready = await readinessReportsDatabase(5_000);
  t.true(ready.probes.every((ms) => ms < 1_000), `every readiness probe answered within 1 s: ${ready.probes.join(', ')} ms`);

  const token = await machineToken(machine);
  t.is(token.status, 200);
  const refresh = await timed(() => client.refreshTokenGrant(web, tokens.refresh_token));
  t.truthy(refresh.value.access_token);
  const userinfo = await timed(() => client.fetchUserInfo(web, refresh.value.access_token, user.id));
  t.is(userinfo.value.sub, user.id);

  const request = await authorizationRequest(web, { scope: 'openid' });
  const attempt = await attemptSignIn(server, request.url.toString(), user.email, user.password);
  t.is(attempt.status, 503);
  t.true(attempt.html.includes(text('error.503')));
  t.true(attempt.ms < 8_000, `the sign-in gave up within 8 s (${attempt.ms} ms)`);

  t.log(`hung: readiness 503 naming postgres ${ready.afterMs} ms after the hang (probes ${ready.probes.join(', ')} ms; "${ready.probe.body.failed?.postgres}")`);
  t.log(`hung: client_credentials ${token.ms} ms, refresh ${refresh.ms} ms, userinfo ${userinfo.ms} ms; sign-in 503 page in ${attempt.ms} ms`);

  proxy.forward();
  await recovery(t);
});
