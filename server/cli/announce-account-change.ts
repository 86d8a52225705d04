// A user changed with the CLI (disabled, deleted, signed out everywhere, a
// new password) must be seen by every running server at once: their account
// caches compare a version per account in Redis (server/accounts/account-cache.ts),
// which this bumps. Without Redis the servers do not cache accounts.
import { redisAccountVersions } from '../accounts/account-cache.ts';
import { connectRedis, pingRedis } from '../adapters/redis-connection.ts';
import type { Config } from '../config/index.ts';
import { oneLine } from '../errors.ts';

export async function announceAccountChange(config: Config, json: Record<string, unknown>): Promise<void> {
  if (!config.redis || typeof json.id !== 'string') return;
  let failure: Error | undefined;
  const redis = connectRedis(config.redis, (error) => { failure = error; });
  try {
    await pingRedis(redis);
    await redisAccountVersions(redis, config.redisKeyPrefix).bump(json.id);
  } catch (error) {
    throw new Error(`the change was made, but telling the servers through Redis failed (they see it within ACCOUNT_CACHE_TTL): ${oneLine(failure ?? error)}`, { cause: error });
  } finally {
    redis.disconnect();
  }
}
