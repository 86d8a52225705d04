// needs: postgres redis
// WORKERS=2: one primary forking two node:cluster workers on one port. Both
// serve tokens and the discovery, the primary's metrics listener sums both,
// a SIGKILLed worker is replaced while the others keep serving, SIGTERM
// drains every worker and exits 0; embedded mode refuses WORKERS.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids } from '../helpers/process-tree.ts';
import { runFailingStart, startServer, type RunningServer } from '../helpers/server-process.ts';
import { eventually } from './support.ts';

const API = 'https://workers.internal';

let server: RunningServer;
let authorization: string;

test.before(async () => {
  server = await startServer({ env: { WORKERS: '2' } });
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'w:read']);
  const client = await server.admin<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'w', '--grant', 'client_credentials', '--api', API, '--scope', 'w:read']);
  authorization = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
});

test.after.always(async () => {
  await server?.stop();
});

// A fresh connection each time (no keep-alive): the primary hands connections to the workers in turn.
const token = () => fetch(`${server.origin}/token`, {
  method: 'POST',
  headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', connection: 'close' },
  body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'w:read' }),
  // A connection the primary handed to a worker just as it was killed gets no answer.
  signal: AbortSignal.timeout(3_000),
});

const workersInMetrics = async () => {
  const text = await (await fetch(`${server.metricsOrigin}/metrics`)).text();
  return Number(/^latchkey_workers (\d+)$/m.exec(text)?.[1]);
};

const tokensInMetrics = async () => {
  const text = await (await fetch(`${server.metricsOrigin}/metrics`)).text();
  return [...text.matchAll(/^latchkey_tokens_issued_total\{[^}]*grant_type="client_credentials"[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
};

test.serial('two workers serve tokens and the discovery; the primary\'s metrics sum both', async (t) => {
  t.is(childPids(server.pid).length, 2, 'the primary forked two workers');
  t.is(await workersInMetrics(), 2);
  const tokens = await eventually('tokens from the new client', async () => ((await token()).ok ? true : undefined));
  t.true(tokens);
  const before = await tokensInMetrics();
  for (let i = 0; i < 20; i++) {
    t.is((await token()).status, 200);
    const discovery = await fetch(`${server.origin}/.well-known/openid-configuration`, { headers: { connection: 'close' } });
    t.is((await discovery.json() as { issuer: string }).issuer, server.issuer);
  }
  t.is(await tokensInMetrics() - before, 20, 'every token counted once, whichever worker issued it');
  t.is(server.output().match(/Latchkey is running/g)?.length, 1, 'one start-up banner');
  t.regex(server.output(), /workers {5}2 processes/);
});

test.serial('a killed worker is replaced and the service continues', async (t) => {
  const [victim, survivor] = childPids(server.pid);
  process.kill(victim, 'SIGKILL');
  // The survivor keeps serving (a connection handed to the dying worker may get no answer: retried).
  await eventually('a token after the kill', async () => ((await token().catch(() => undefined))?.ok ? true : undefined), 10_000);
  const replacement = await eventually('a replacement worker', async () => {
    const now = childPids(server.pid);
    return now.length === 2 && !now.includes(victim) ? now.find((pid) => pid !== survivor) : undefined;
  }, 15_000);
  t.truthy(replacement);
  await eventually('the replacement serving', async () => ((await workersInMetrics()) === 2 ? true : undefined), 15_000);
  for (let i = 0; i < 10; i++) t.is((await token()).status, 200);
  t.regex(server.output(), /a worker exited; starting a replacement/);
});

test.serial('SIGTERM drains every worker and the primary exits 0', async (t) => {
  const workers = childPids(server.pid);
  // A request in flight when the signal arrives is still answered.
  const inFlight = token();
  await sleep(5);
  process.kill(server.pid, 'SIGTERM');
  t.is((await inFlight).status, 200);
  t.deepEqual(await server.exited, { code: 0, signal: null });
  await eventually('the workers gone', async () => (workers.every((pid) => childPids(server.pid).length === 0 && !alive(pid)) ? true : undefined));
  t.pass();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('WORKERS above 1 in embedded mode refuses to start with a one-line reason', async (t) => {
  const { code, output } = await runFailingStart({ NODE_ENV: 'development', WORKERS: '2', DATA_DIR: '/nonexistent/never-created' });
  t.is(code, 1);
  t.is(output.trim(), 'Invalid configuration: WORKERS=2 needs DATABASE_URL and Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES; the embedded database and the in-process store live inside one process); unset WORKERS');
});

test('workers that keep dying right after their fork make the primary give up and exit 1', async (t) => {
  const crashing = await startServer({ env: { WORKERS: '2' } });
  t.teardown(() => crashing.stop());
  const killed = new Set<number>();
  // Kill every worker as soon as it appears, as a worker crashing at start would die.
  for (;;) {
    for (const pid of childPids(crashing.pid)) {
      if (killed.has(pid)) continue;
      killed.add(pid);
      process.kill(pid, 'SIGKILL');
    }
    const done = await Promise.race([crashing.exited, sleep(20).then(() => undefined)]);
    if (done) {
      t.deepEqual(done, { code: 1, signal: null });
      break;
    }
  }
  t.regex(crashing.output(), /workers exited within 10 s of their start 5 times in a row; giving up/);
  t.true(killed.size >= 5 && killed.size <= 7, `${killed.size} workers killed`);
});
