// The process's one Redis connection (oidc-provider storage, rate limits, caches).
import { pino, type Logger } from 'pino';
import type { RedisTopology } from '../config/redis-topology.ts';
import { createRedisClient, describeRedis, type RedisClient } from './redis-topology.ts';

/** The outage report: one pino line naming the host, never the password. */
export const reportRedisOutage = (target: string | RedisTopology, logger: Pick<Logger, 'error'>) => (error: Error): void => {
  logger.error({ err: error, redis: describeRedis(target) }, 'Redis connection failed; reconnecting');
};

/** `onError` hears each outage once; by default it is logged with `logger` (the server passes its own). */
export function connectRedis(target: string | RedisTopology, onError: (error: Error) => void = reportRedisOutage(target, pino())): RedisClient {
  const redis = createRedisClient(target, {
    // Commands issued in the same tick share one write: every token request touches Redis.
    enableAutoPipelining: true,
    // While Redis is down, fail a request after a couple of reconnect attempts instead of
    // holding it for ioredis' default 20.
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    lazyConnect: false,
  });
  // ioredis keeps reconnecting on its own; report each outage once, not every retry,
  // and never let an 'error' event go unhandled.
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    onError(error);
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}

/** Resolves when Redis answers within timeoutMs; for start-up and readiness checks. */
export async function pingRedis(redis: RedisClient, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const reply = await Promise.race([redis.ping(), timeout]);
    if (reply !== 'PONG') throw new Error(`Redis answered PING with ${String(reply)}`);
  } finally {
    clearTimeout(timer);
  }
}
