// needs: postgres redis
// /healthz/ready of a real Latchkey process whose Postgres and Redis sit
// behind proxies the test makes hang (connections accepted, nothing answered)
// and then forward again: 503 naming the store soon after it stops answering,
// every probe answered well under 1 s meanwhile, 200 again once it answers,
// without a restart.
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createTestDatabase, TEST_DATABASE_URL, TEST_REDIS_URL, type TestDatabase } from '../helpers/services.ts';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/tcp-blackhole-proxy.ts';

// The store deadline is 1 s; the rest is room for a loaded 2-core machine.
const NOT_READY_WITHIN_MS = 2_500;
const READY_AGAIN_WITHIN_MS = 5_000;
const PROBE_ANSWER_MS = 1_000;

let database: TestDatabase;
let postgres: BlackholeProxy;
let redis: BlackholeProxy;
let server: RunningServer;

const target = (url: string, defaultPort: number) => ({ host: new URL(url).hostname, port: Number(new URL(url).port || defaultPort) });

test.before(async () => {
  database = await createTestDatabase();
  postgres = await startBlackholeProxy(target(TEST_DATABASE_URL, 5432));
  redis = await startBlackholeProxy(target(TEST_REDIS_URL, 6379));
  server = await startServer({ database: { url: postgres.url(database.url), drop: async () => {} }, env: { REDIS_URL: redis.url(TEST_REDIS_URL) } });
});

test.after.always(async () => {
  postgres?.forward();
  redis?.forward();
  await server?.stop();
  await postgres?.close();
  await redis?.close();
  await database?.drop();
});

interface Probe { status: number; body: { status: string; failed?: Record<string, string> }; ms: number }

async function probe(path = '/healthz/ready'): Promise<Probe> {
  const started = Date.now();
  const response = await fetch(`${server.origin}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() as Probe['body'], ms: Date.now() - started };
}

/** Probes every 100 ms until `done` holds or `withinMs` passed; every probe must answer within PROBE_ANSWER_MS. */
async function probeUntil(t: import('ava').ExecutionContext, done: (p: Probe) => boolean, withinMs: number): Promise<{ probe: Probe; after: number }> {
  const started = Date.now();
  for (;;) {
    const answer = await probe();
    t.true(answer.ms < PROBE_ANSWER_MS, `a probe took ${answer.ms} ms`);
    if (done(answer)) return { probe: answer, after: Date.now() - started };
    if (Date.now() - started > withinMs) throw new Error(`still ${answer.status} ${JSON.stringify(answer.body)} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const store of ['postgres', 'redis'] as const) {
  test.serial(`readiness goes 503 naming ${store} when it stops answering, and back to 200 when it answers again`, async (t) => {
    const proxy = store === 'postgres' ? postgres : redis;
    const ready = await probe();
    t.is(ready.status, 200);
    t.is(ready.body.status, 'ok');
    t.is(ready.body.failed, undefined);

    proxy.hang();
    const down = await probeUntil(t, (p) => p.status === 503, NOT_READY_WITHIN_MS);
    t.is(down.probe.body.status, 'unavailable');
    t.deepEqual(Object.keys(down.probe.body.failed ?? {}), [store]);
    t.regex(down.probe.body.failed![store], /^no answer for \d+\.\d s$/);
    t.log(`${store}: 503 ${down.after} ms after it stopped answering`);
    // Liveness asks no store.
    const live = await probe('/healthz/live');
    t.is(live.status, 200);
    t.true(live.ms < PROBE_ANSWER_MS);
    // Still not ready while it hangs, and still answering fast.
    t.is((await probeUntil(t, () => true, 0)).probe.status, 503);

    proxy.forward();
    const up = await probeUntil(t, (p) => p.status === 200, READY_AGAIN_WITHIN_MS);
    t.is(up.probe.body.status, 'ok');
    t.is((await probe('/healthz')).status, 200, '/healthz is readiness under its old name');
    t.is(server.exited !== undefined && (await Promise.race([server.exited.then(() => 'exited'), Promise.resolve('running')])), 'running', 'no restart');
  });
}
