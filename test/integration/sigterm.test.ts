// needs: postgres redis
// SIGTERM to a real Latchkey process under client_credentials load on 32
// keep-alive connections, with a client stuck sending its body: every request
// that was written gets a complete answer (no reset), readiness answers 503,
// and the process exits 0 within SHUTDOWN_TIMEOUT, the stuck client cut.
import test from 'ava';
import { keepAliveLoad, probeLoop } from '../helpers/keep-alive-load.ts';
import { startServer } from '../helpers/server-process.ts';
import { slowBodyClient } from '../helpers/slow-body-client.ts';

const SHUTDOWN_TIMEOUT_S = 4;
const EXIT_MARGIN_MS = 4_000; // a loaded 2-core machine runs timers late
const RESOURCE = 'https://sigterm.internal';
const SCOPE = 'orders:read';

/** Resolves once `condition` holds, checking every 20 ms; rejects after `withinMs`. */
async function until(condition: () => boolean, withinMs: number, what: string) {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('SIGTERM under keep-alive load: no request lost, readiness 503, exit 0 within SHUTDOWN_TIMEOUT despite a slow body', async (t) => {
  const server = await startServer({ env: { SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_S}s` } });
  try {
    await server.admin(['apis', 'create', '--identifier', RESOURCE, '--scope', SCOPE]);
    const client = await server.admin(['clients', 'create', '--name', 'sigterm', '--grant', 'client_credentials', '--api', RESOURCE, '--scope', SCOPE]);
    const request = {
      method: 'POST',
      path: '/token',
      headers: {
        host: `localhost:${server.port}`,
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    };
    // The admin cache picks the new client up within CACHE_REFRESH_INTERVAL: wait for a token.
    const warm = keepAliveLoad(server.port, 1, request);
    await until(() => (warm.stats.statuses[200] ?? 0) > 0, 15_000, 'a first token');
    await warm.stop();

    const load = keepAliveLoad(server.port, 32, request);
    const probe = probeLoop(server.port, '/healthz/ready', 20);
    const slow = await slowBodyClient(server.port);
    slow.socket.on('error', () => {});
    await until(() => load.stats.answered >= 32 * 5 && probe.answers.length > 0, 30_000, 'load under way');
    t.is(load.stats.lost, 0, 'nothing lost before the signal');

    const signalled = Date.now();
    load.mark();
    probe.mark();
    process.kill(server.pid, 'SIGTERM');
    const exit = await Promise.race([
      server.exited,
      new Promise<undefined>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_S * 1000 + EXIT_MARGIN_MS)),
    ]);
    const exitedAfter = Date.now() - signalled;
    t.deepEqual(exit, { code: 0, signal: null }, `exited ${exitedAfter} ms after SIGTERM`);
    t.log(`exit ${exitedAfter} ms after SIGTERM (SHUTDOWN_TIMEOUT ${SHUTDOWN_TIMEOUT_S}s); ${load.stats.answeredAfterMark} answers after it`);

    // Every worker ends refused (nothing listens) once its connection closed.
    const stats = await Promise.race([load.ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('load did not end')), 10_000))]);
    await probe.stop();
    t.is(stats.lost, 0, `requests lost after being written: ${JSON.stringify(stats.lostCodes)}`);
    t.deepEqual(Object.keys(stats.statuses), ['200'], 'every answer a token');
    t.is(stats.refused, 32, 'each connection, once closed, found nothing listening');

    const afterSignal = probe.answers.filter((a) => a.afterMark).map((a) => a.status);
    t.true(afterSignal.includes(503), `readiness after SIGTERM: ${afterSignal.join(' ')}; errors ${probe.errors.join(', ')}`);
    t.deepEqual(afterSignal.slice(afterSignal.indexOf(503)), afterSignal.slice(afterSignal.indexOf(503)).map(() => 503), 'never ready again once it said 503');

    // The client that never finished its body was cut (no answer), not waited for.
    t.is(await slow.closed, '');
  } finally {
    await server.stop();
  }
});
