// The Redis command timeout (server/adapters/command-timeout.ts) on real
// redis-server processes: a hung Redis fails a command after the timeout, a
// Redis that is down fails it at once, and a Latchkey process whose event
// loop stalled past the timeout still gets the answers Redis gave in time.
import test from 'ava';
import { Redis } from 'ioredis';
import { isStoreUnavailable } from '../../server/adapters/errors.ts';
import { useCommandTimeout } from '../../server/adapters/command-timeout.ts';
import { failFastOptions, pingRedis } from '../../server/adapters/redis-connection.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

const TIMEOUT_MS = 200;

/** Blocks the event loop, as a CPU-starved process or a long GC pause does. */
function stall(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

function connect(url: string): Redis {
  const redis = useCommandTimeout(new Redis(url, failFastOptions()), TIMEOUT_MS);
  redis.on('error', () => {});
  return redis;
}

test('a hung Redis fails a command after the timeout, a stopped one at once; both are "unavailable" and the connection recovers', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.dispose());
  const redis = connect(server.url);
  t.teardown(() => redis.disconnect());
  await pingRedis(redis);

  server.pause();
  let started = performance.now();
  const hung = await redis.set('k', 'v').catch((error: unknown) => error);
  const hungMs = performance.now() - started;
  server.resume();
  t.true(isStoreUnavailable(hung), String(hung));
  t.true(hungMs >= TIMEOUT_MS - 5, `failed after ${Math.round(hungMs)} ms, not before the timeout`);
  t.true(hungMs < TIMEOUT_MS * 5, `failed after ${Math.round(hungMs)} ms`);
  // What a caller must know: the command was sent, and Redis ran it when it resumed.
  t.is(await redis.get('k'), 'v', 'a timeout does not undo a write');

  await server.stop();
  started = performance.now();
  const down = await redis.get('k').catch((error: unknown) => error);
  t.true(isStoreUnavailable(down), String(down));
  t.log(`hung: failed after ${Math.round(hungMs)} ms; down: after ${Math.round(performance.now() - started)} ms`);

  await server.start();
  await pingRedis(redis, 10_000);
  t.is(await redis.ping(), 'PONG', 'the same connection works again');
});

test('an event loop stalled past the timeout still gets the answers Redis gave in time', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.dispose());
  const redis = connect(server.url);
  t.teardown(() => redis.disconnect());
  await pingRedis(redis);

  // PING is sent at once (not auto-pipelined on a later tick), so the stall comes after it.
  const answered = redis.ping();
  stall(TIMEOUT_MS * 3);
  t.is(await answered, 'PONG');

  // ioredis' own commandTimeout fails it: the reason command-timeout.ts exists.
  const plain = new Redis(server.url, { ...failFastOptions(), commandTimeout: TIMEOUT_MS });
  plain.on('error', () => {});
  t.teardown(() => plain.disconnect());
  await pingRedis(plain);
  const timedOut = plain.ping().catch((error: unknown) => error);
  stall(TIMEOUT_MS * 3);
  t.true(isStoreUnavailable(await timedOut), 'ioredis\' timer fires before the reply that came in time is read');
});
