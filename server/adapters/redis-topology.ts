// The client for the configured topology (server/config/redis-topology.ts):
// one Redis from its URL, the primary that the sentinels name (ioredis asks
// them again after a failover), or a Cluster. The connection options (timeouts,
// queueing) are the caller's (./redis-connection.ts); this file only chooses.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.ts';

/**
 * What the stores need: the commands ioredis' Redis and Cluster share. Every
 * script and MULTI touches keys of one hash slot (./redis.ts), so either works.
 */
export type RedisClient = Redis | Cluster;

export function createRedisClient(target: string | RedisTopology, options: RedisOptions): RedisClient {
  const topology: RedisTopology = typeof target === 'string' ? { mode: 'standalone', url: target, tls: false } : target;
  switch (topology.mode) {
    case 'standalone':
      // TLS comes with the rediss:// URL (REDIS_TLS=true with redis:// is refused).
      return new Redis(topology.url, { ...options, ...(topology.password ? { password: topology.password } : {}) });
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: topology.sentinels,
        name: topology.name,
        role: 'master',
        db: topology.db,
        username: topology.username,
        password: topology.password,
        sentinelPassword: topology.sentinelPassword,
        ...(topology.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        // Hear +switch-master from the sentinels and reconnect at once, rather
        // than when the old primary's connection finally fails.
        failoverDetector: true,
      });
    case 'cluster': {
      const { enableOfflineQueue, enableAutoPipelining, maxRetriesPerRequest: _perNode, retryStrategy: _retry, ...nodeOptions } = options;
      return new Cluster(topology.nodes, {
        enableOfflineQueue,
        enableAutoPipelining,
        redisOptions: {
          ...nodeOptions,
          maxRetriesPerRequest: options.maxRetriesPerRequest,
          username: topology.username,
          password: topology.password,
          ...(topology.tls ? { tls: {} } : {}),
        },
      });
    }
  }
}

/** Where Redis is, without credentials: for log lines and start-up errors. */
export function describeRedis(target: string | RedisTopology): string {
  const list = (nodes: { host: string; port: number }[]) => nodes.map(({ host, port }) => `${host}:${port}`).join(',');
  if (typeof target !== 'string' && target.mode === 'sentinel') return `sentinel primary "${target.name}" via ${list(target.sentinels)}`;
  if (typeof target !== 'string' && target.mode === 'cluster') return `cluster ${list(target.nodes)}`;
  const url = typeof target === 'string' ? target : target.url;
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return 'URL';
  }
}
