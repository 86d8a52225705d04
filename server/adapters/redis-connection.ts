// The process's one Redis connection (oidc-provider storage, rate limits, caches).
import type { RedisOptions } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { RedisTopology } from '../config/redis-topology.ts';
import { useCommandTimeout } from './command-timeout.ts';
import { createRedisClient, describeRedis, type RedisClient } from './redis-topology.ts';

/** The outage report: one pino line naming the host, never the password. */
export const reportRedisOutage = (target: string | RedisTopology, logger: Pick<Logger, 'error'>) => (error: Error): void => {
  logger.error({ err: error, redis: describeRedis(target) }, 'Redis connection failed; reconnecting');
};

/** REDIS_COMMAND_TIMEOUT_MS's default. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;

export interface RedisConnectionOptions {
  /** A command without an answer this long fails (a hung Redis); default 500 ms. */
  commandTimeoutMs?: number;
}

/**
 * How every connection to Redis fails fast: a Redis that is down or hung
 * fails a request at once or within the command timeout (command-timeout.ts;
 * the request then answers 503, server/adapters/errors.ts), while ioredis
 * keeps reconnecting in the background. Nothing waits in a queue to run
 * after its caller was told it failed: a token consumed after its refresh
 * answered 503 would be a lost refresh token.
 */
export function failFastOptions(): RedisOptions {
  return {
    // Commands issued in the same tick share one write: every token request touches Redis.
    enableAutoPipelining: true,
    // A command waits for the pipeline in flight before its own timeout starts, so with
    // Redis hung a request fails within twice the timeout; readiness' PING goes alone.
    autoPipeliningIgnoredCommands: ['ping'],
    // Not connected: fail at once rather than queue until a reconnect.
    enableOfflineQueue: false,
    // Connection lost: the commands in flight fail at once (not after retries),
    // and are not sent again on reconnect.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 5_000,
    lazyConnect: false,
  };
}

/**
 * The client for `target` (one Redis, Sentinel or Cluster: ./redis-topology.ts)
 * with the fail-fast options. `onError` hears each outage once; by default it
 * is logged with `logger` (the server passes its own).
 */
export function connectRedis(
  target: string | RedisTopology,
  onError: (error: Error) => void = reportRedisOutage(target, pino()),
  options: RedisConnectionOptions = {},
): RedisClient {
  const redis = useCommandTimeout(createRedisClient(target, failFastOptions()), options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
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

/**
 * Resolves when Redis answers within timeoutMs; for start-up checks. Waits
 * for the first connection (commands sent before it would fail at once).
 */
export async function pingRedis(redis: RedisClient, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer PING within ${timeoutMs} ms`)), timeoutMs);
  });
  const ready = redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  try {
    const reply = await Promise.race([ready.then(() => redis.ping()), timeout]);
    if (reply !== 'PONG') throw new Error(`Redis answered PING with ${String(reply)}`);
  } finally {
    clearTimeout(timer);
  }
}
