// A Redis outage is one pino line naming the host (never the password), not stderr.
import test from 'ava';
import { connectRedis, reportRedisOutage } from '../../server/adapters/redis-connection.ts';

const URL_WITH_PASSWORD = 'redis://:s3cret-pass@127.0.0.1:1/0';

test('an outage is logged once through the injected logger, without the password', async (t) => {
  const lines: Array<[Record<string, unknown>, string]> = [];
  const logger = { error: (fields: Record<string, unknown>, message: string) => { lines.push([fields, message]); } };
  // Port 1: refused at once, and ioredis keeps retrying (reported once).
  const redis = connectRedis(URL_WITH_PASSWORD, reportRedisOutage(URL_WITH_PASSWORD, logger as never));
  t.teardown(() => redis.disconnect());
  for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 300)); // a retry or two
  t.is(lines.length, 1);
  const [fields, message] = lines[0];
  t.is(message, 'Redis connection failed; reconnecting');
  t.is(fields.redis, 'redis://127.0.0.1:1');
  t.true(fields.err instanceof Error);
  t.false(JSON.stringify(lines).includes('s3cret'), 'no password in the log line');
});
