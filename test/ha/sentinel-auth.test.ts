// needs: postgres
// Sentinel with passwords: the data nodes' (REDIS_PASSWORD) and the
// sentinels' own (REDIS_SENTINEL_PASSWORD) are separate, and each is needed.
import test from 'ava';
import { connectRedis, pingRedis } from '../../server/adapters/redis-connection.ts';
import { loadConfig } from '../../server/config/index.ts';
import { SENTINEL_NAME, startSentinelSetup, type SentinelSetup } from '../helpers/redis-sentinel.ts';

const DATA_PASSWORD = 'data-secret-4f1c';
const SENTINEL_PASSWORD = 'sentinel-secret-9a2e';
let setup: SentinelSetup;

test.before(async () => {
  setup = await startSentinelSetup({ password: DATA_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
});

test.after.always(async () => {
  await setup?.dispose();
});

const topology = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', REDIS_SENTINELS: setup.sentinels, REDIS_SENTINEL_NAME: SENTINEL_NAME, ...env }).redis!;

test('with both passwords the client reaches the primary the sentinels name', async (t) => {
  const redis = connectRedis(topology({ REDIS_PASSWORD: DATA_PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD }), () => {});
  try {
    await pingRedis(redis, 5_000);
    await redis.set('latchkey-drill:auth', 'ok');
    const primary = setup.primary.client();
    t.is(await primary.get('latchkey-drill:auth'), 'ok', 'the write landed on the primary');
    primary.disconnect();
  } finally {
    redis.disconnect();
  }
});

test('the data password also comes from a REDIS_URL that carries only credentials', async (t) => {
  const redis = connectRedis(topology({ REDIS_URL: `redis://:${DATA_PASSWORD}@primary`, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD }), () => {});
  try {
    await pingRedis(redis, 5_000);
    t.pass();
  } finally {
    redis.disconnect();
  }
});

for (const [missing, env] of [
  ['the sentinels\' password', { REDIS_PASSWORD: DATA_PASSWORD }],
  ['the data password', { REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD }],
] as const) {
  test(`without ${missing} nothing answers`, async (t) => {
    const redis = connectRedis(topology(env), () => {});
    try {
      await t.throwsAsync(pingRedis(redis, 2_000));
    } finally {
      redis.disconnect();
    }
  });
}
