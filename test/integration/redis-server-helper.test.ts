// The disposable redis-server helper the failover tests rely on: it starts,
// keeps AOF data across a restart, and freezes on pause.
import test from 'ava';
import { startRedisServer } from '../helpers/redis-server.ts';

test('a disposable redis-server keeps its AOF data across a restart and hangs while paused', async (t) => {
  const redis = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  t.teardown(() => redis.dispose());
  const client = redis.client();
  t.teardown(() => client.disconnect());
  await client.set('kept', 'yes');
  await redis.stop('SIGKILL');
  await redis.start();
  const after = redis.client();
  t.teardown(() => after.disconnect());
  t.is(await after.get('kept'), 'yes');
  redis.pause();
  const answered = await Promise.race([after.ping().then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('hung'), 300))]);
  redis.resume();
  t.is(answered, 'hung');
  t.is(await after.ping(), 'PONG');
});
