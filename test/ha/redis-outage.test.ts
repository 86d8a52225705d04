// needs: postgres redis
// Redis down, hung, and killed and restarted with AOF, under a real Latchkey
// process: every request that needs Redis fails fast with a 503 (JSON for the
// API endpoints, the error page for pages), readiness says 503 within a
// second, and Latchkey recovers by itself when Redis is back. The AOF drill:
// sessions and refresh tokens written before a SIGKILL survive the restart.
// The latencies measured are printed (t.log) for the README and the issue.
import test, { type ExecutionContext } from 'ava';
import * as client from 'openid-client';
import { ScriptedBrowser } from '../helpers/browser.ts';
import { basicAuth, tokenRequest } from '../helpers/oidc-http.ts';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { authorizationRequest, codeFlow, createCodeClient, createUser, discover, eventually, REDIRECT_URI, type CodeFlowClient, type TestUser } from '../e2e/support.ts';

// What the issue asks: a failed request answers within 1 s; asserted with room for a loaded CI machine.
const FAIL_FAST_MS = 2_000;
// Readiness answers within 250 ms by design (server/health/readiness.ts); the issue asks for 1 s.
const READINESS_MS = 1_000;

let redis: RedisServer;
let server: RunningServer;
let registered: CodeFlowClient;
let config: client.Configuration;
let user: TestUser;
let machine: { client_id: string; client_secret: string };
const API = 'https://orders.outage.test';

/** A signed-in browser and its grant's latest refresh token. */
interface Grant {
  browser: ScriptedBrowser;
  refreshToken: string;
}
const grants: Grant[] = [];

test.before(async () => {
  // Every write reaches the disk before Redis answers it: a SIGKILL loses nothing acknowledged.
  redis = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  server = await startServer({ env: { REDIS_URL: redis.url } });
  registered = await createCodeClient(server, 'Outage app', ['--grant', 'refresh_token', '--first-party']);
  config = await discover(server, registered.client_id, client.ClientSecretBasic(registered.client_secret!));
  user = await createUser(server, 'outage');
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'orders:read', '--name', 'Orders']);
  machine = await server.admin(['clients', 'create', '--name', 'Outage machine', '--grant', 'client_credentials', '--api', API, '--scope', 'orders:read']);
  for (let i = 0; i < 3; i++) {
    const { tokens, browser } = await codeFlow(server, config, user, { scope: 'openid email' });
    grants.push({ browser, refreshToken: tokens.refresh_token! });
  }
});

test.after.always(async () => {
  await server?.stop();
  await redis?.dispose();
});

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - started) };
}

const credentials = () => ({ client_id: registered.client_id, client_secret: registered.client_secret! });

function refresh(refreshToken: string) {
  return tokenRequest(server.origin, { grant_type: 'refresh_token', refresh_token: refreshToken }, credentials());
}

/** A machine token (a JWT: issued without Redis). */
function machineToken() {
  return tokenRequest(server.origin, { grant_type: 'client_credentials', resource: API, scope: 'orders:read' }, machine);
}

async function introspect(token: string, caller: { client_id: string; client_secret: string } = credentials()) {
  const response = await fetch(new URL('/token/introspection', server.origin), {
    method: 'POST',
    headers: { authorization: basicAuth(caller.client_id, caller.client_secret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token }),
  });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.json() as Record<string, unknown> };
}

async function readiness() {
  const response = await fetch(new URL('/healthz/ready', server.origin));
  return { status: response.status, body: await response.json() as { failed?: Record<string, string> } };
}

/** A GET of a page as a browser sends it (Accept: HTML), with the browser's cookies. */
async function page(browser: ScriptedBrowser, url: string) {
  const response = await browser.request(url, { headers: { accept: 'text/html' } });
  return { status: response.status, type: response.headers.get('content-type') ?? '', html: await response.text() };
}

/** An authorization request of this browser (its session signs it in without a page when alive). */
async function authorizationUrl(parameters: Record<string, string> = {}) {
  return (await authorizationRequest(config, { scope: 'openid email', ...parameters })).url.toString();
}

/** A browser on the sign-in page of a fresh authorization request (an interaction stored in Redis). */
interface SignInPage {
  browser: ScriptedBrowser;
  url: string;
}

async function signInPage(): Promise<SignInPage> {
  const browser = new ScriptedBrowser(server.issuer);
  const step = await browser.follow(await authorizationUrl());
  if (!/name="password"/.test(step.html)) throw new Error(`expected the sign-in page, got ${step.url} (${step.response.status})`);
  return { browser, url: step.url };
}

/** Polls readiness from `since` until it says 503; each probe must answer fast. Returns ms from `since`. */
async function readinessFails(t: ExecutionContext, since: number): Promise<number> {
  for (;;) {
    const probe = await timed(readiness);
    t.true(probe.ms < READINESS_MS, `a readiness probe answered in ${probe.ms} ms`);
    if (probe.value.status === 503) {
      t.truthy(probe.value.body.failed?.redis, 'readiness names Redis');
      const ms = Math.round(performance.now() - since);
      t.true(ms < FAIL_FAST_MS, `readiness said 503 ${ms} ms into the outage`);
      return ms;
    }
    t.is(probe.value.status, 200);
    if (performance.now() - since > 5_000) throw new Error('readiness still 200 5 s into the outage');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Every kind of request that needs Redis during the outage: a 503 within
 * FAIL_FAST_MS, JSON temporarily_unavailable from the API endpoints, the error
 * page for pages. Returns the latencies.
 */
async function failsFast(t: ExecutionContext, grant: Grant, signIn: SignInPage, jwt: string): Promise<Record<string, number>> {
  const refreshed = await timed(() => refresh(grant.refreshToken));
  t.is(refreshed.value.status, 503, refreshed.value.text);
  t.is(refreshed.value.body.error, 'temporarily_unavailable');
  t.regex(refreshed.value.headers.get('content-type') ?? '', /json/);

  const introspected = await timed(() => introspect(grant.refreshToken));
  t.is(introspected.value.status, 503);
  t.is(introspected.value.body.error, 'temporarily_unavailable');
  t.regex(introspected.value.type, /json/);

  // A JWT's introspection reads the revocation list and its grant from Redis.
  const jwtIntrospected = await timed(() => introspect(jwt, machine));
  t.is(jwtIntrospected.value.status, 503);
  t.is(jwtIntrospected.value.body.error, 'temporarily_unavailable');

  // The authorization endpoint (it reads the session from Redis) answers as
  // RFC 6749 4.1.2.1 says: back to the client with error=temporarily_unavailable.
  const authorization = await timed(async () => grant.browser.request(await authorizationUrl(), { headers: { accept: 'text/html' } }));
  t.is(authorization.value.status, 303);
  const back = new URL(authorization.value.headers.get('location') ?? '', server.issuer);
  t.is(`${back.origin}${back.pathname}`, REDIRECT_URI);
  t.is(back.searchParams.get('error'), 'temporarily_unavailable');

  // Latchkey's own page (the interaction is read from Redis).
  const signInAnswer = await timed(() => page(signIn.browser, signIn.url));
  t.is(signInAnswer.value.status, 503);
  t.regex(signInAnswer.value.type, /html/);
  t.regex(signInAnswer.value.html, /temporarily unavailable/i);

  const latencies = { refresh: refreshed.ms, introspection: introspected.ms, jwtIntrospection: jwtIntrospected.ms, authorization: authorization.ms, signInPage: signInAnswer.ms };
  for (const [what, ms] of Object.entries(latencies)) t.true(ms < FAIL_FAST_MS, `${what} answered in ${ms} ms`);
  return latencies;
}

/** Readiness back to 200 (ioredis reconnects by itself); ms from `since`. */
async function recovered(since: number): Promise<number> {
  await eventually('readiness 200 again', async () => ((await readiness()).status === 200 ? true : undefined), 15_000);
  return Math.round(performance.now() - since);
}

/** Every grant refreshes (rotating its token) and every session signs its browser in without a page. */
async function everythingWorks(t: ExecutionContext) {
  t.notThrows(() => process.kill(server.pid, 0), 'the same Latchkey process, never restarted');
  for (const grant of grants) {
    const refreshed = await refresh(grant.refreshToken);
    t.is(refreshed.status, 200, refreshed.text);
    t.truthy(refreshed.body.refresh_token);
    grant.refreshToken = refreshed.body.refresh_token;
    const step = await grant.browser.follow(await authorizationUrl({ prompt: 'none' }));
    t.truthy(step.location, `the session signs in without a page (got ${step.response.status} ${step.url})`);
    const callback = new URL(step.location!);
    t.truthy(callback.searchParams.get('code'), `a code, not ${callback.searchParams.get('error')}`);
  }
  t.is((await introspect(grants[0].refreshToken)).body.active, true);
}

// Each test starts on a Redis that Latchkey is connected to, whatever the one before left.
test.beforeEach(() => recovered(performance.now()));

test.serial('Redis stopped: requests answer 503 at once, readiness 503; all works again when it is back', async (t) => {
  const signIn = await signInPage();
  const jwt = (await machineToken()).body.access_token as string;
  await redis.stop();
  const stoppedAt = performance.now();
  let readinessMs: number;
  let latencies: Record<string, number>;
  try {
    readinessMs = await readinessFails(t, stoppedAt);
    latencies = await failsFast(t, grants[0], signIn, jwt);
    // Machine tokens are JWTs, issued without Redis: they keep coming.
    const issued = await machineToken();
    t.is(issued.status, 200, issued.text);
  } finally {
    await redis.start();
  }
  const recoveryMs = await recovered(performance.now());
  t.log(`Redis stopped: readiness 503 after ${readinessMs} ms; 503 answers in ms: ${JSON.stringify(latencies)}; ready again ${recoveryMs} ms after Redis was`);
  await everythingWorks(t);
});

test.serial('Redis hung (SIGSTOP): requests answer 503 within the command timeout, readiness 503; all works again on SIGCONT', async (t) => {
  const signIn = await signInPage();
  const jwt = (await machineToken()).body.access_token as string;
  redis.pause();
  const pausedAt = performance.now();
  try {
    // Readiness is polled from the moment of the freeze, while the requests run.
    const [latencies, readinessMs] = await Promise.all([failsFast(t, grants[0], signIn, jwt), readinessFails(t, pausedAt)]);
    t.log(`Redis hung: 503 answers in ms: ${JSON.stringify(latencies)}; readiness 503 after ${readinessMs} ms`);
  } finally {
    redis.resume();
  }
  const recoveryMs = await recovered(performance.now());
  t.log(`Redis hung: ready again ${recoveryMs} ms after SIGCONT`);
  await everythingWorks(t);
});

test.serial('drill: Redis killed (SIGKILL) and restarted with AOF: every session and refresh token survives, no restart of Latchkey', async (t) => {
  const signIn = await signInPage();
  const jwt = (await machineToken()).body.access_token as string;
  await redis.stop('SIGKILL');
  const killedAt = performance.now();
  let readinessMs: number;
  let latencies: Record<string, number>;
  let refreshMs: number[];
  try {
    readinessMs = await readinessFails(t, killedAt);
    latencies = await failsFast(t, grants[1], signIn, jwt);
    // Token requests during the outage: each a 503 JSON, none hanging.
    const attempts = await Promise.all(grants.map((grant) => timed(() => refresh(grant.refreshToken))));
    refreshMs = attempts.map((attempt) => attempt.ms);
    for (const { value, ms } of attempts) {
      t.is(value.status, 503);
      t.is(value.body.error, 'temporarily_unavailable');
      t.true(ms < FAIL_FAST_MS, `a refresh answered in ${ms} ms`);
    }
  } finally {
    await redis.start();
  }
  const recoveryMs = await recovered(performance.now());
  t.log(`AOF drill: readiness 503 after ${readinessMs} ms; 503 answers in ms: ${JSON.stringify(latencies)}, refreshes ${refreshMs.join('/')} ms; ready again ${recoveryMs} ms after Redis restarted`);
  await everythingWorks(t);
});
