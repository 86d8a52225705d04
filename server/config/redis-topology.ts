// Which Redis the process talks to, from REDIS_URL, REDIS_SENTINELS or
// REDIS_CLUSTER_NODES and their passwords and TLS: decided once, here, and
// refused with a one-line reason when the settings contradict each other.
// server/adapters/redis-topology.ts builds the client from it.

export interface HostPort { host: string; port: number }

interface Credentials {
  username?: string;
  /** The data nodes' password (REDIS_PASSWORD or REDIS_URL's). */
  password?: string;
  tls: boolean;
}

export type RedisTopology =
  | { mode: 'standalone'; url: string; password?: string; tls: boolean }
  | ({ mode: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string; db: number } & Credentials)
  | ({ mode: 'cluster'; nodes: HostPort[] } & Credentials);

export interface RedisSettings {
  REDIS_URL?: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_CLUSTER_NODES?: string;
  REDIS_PASSWORD?: string;
  REDIS_TLS?: boolean;
}

export function parseHostPorts(list: string): HostPort[] {
  return list.split(',').map((entry) => {
    const trimmed = entry.trim();
    const at = trimmed.lastIndexOf(':');
    return { host: trimmed.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(trimmed.slice(at + 1)) };
  });
}

/** The topology, undefined without any Redis setting; throws Error(reason) on a contradiction. */
export function redisTopology(s: RedisSettings): RedisTopology | undefined {
  const url = s.REDIS_URL === undefined ? undefined : new URL(s.REDIS_URL);
  const urlTls = url?.protocol === 'rediss:';
  const urlPassword = url?.password ? decodeURIComponent(url.password) : undefined;
  const username = url?.username ? decodeURIComponent(url.username) : undefined;
  if (s.REDIS_SENTINELS && s.REDIS_CLUSTER_NODES) throw new Error('REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other: a Redis is either watched by sentinels or a cluster');
  if (!s.REDIS_SENTINELS) {
    if (s.REDIS_SENTINEL_NAME) throw new Error('REDIS_SENTINEL_NAME is set without REDIS_SENTINELS');
    if (s.REDIS_SENTINEL_PASSWORD) throw new Error('REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS');
  }
  if (urlPassword && s.REDIS_PASSWORD) throw new Error('REDIS_PASSWORD and a password in REDIS_URL are both set: give it once');
  if (urlTls && s.REDIS_TLS === false) throw new Error('REDIS_TLS=false contradicts the rediss:// REDIS_URL');
  if (url && !urlTls && s.REDIS_TLS === true) throw new Error('REDIS_TLS=true contradicts the redis:// REDIS_URL (use rediss://)');
  const password = urlPassword ?? s.REDIS_PASSWORD;
  const tls = urlTls || s.REDIS_TLS === true;
  const db = url && url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`REDIS_URL names no database number (got path ${url?.pathname})`);

  if (s.REDIS_SENTINELS) {
    if (!s.REDIS_SENTINEL_NAME) throw new Error('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the name in `sentinel monitor <name> ...`)');
    return { mode: 'sentinel', sentinels: parseHostPorts(s.REDIS_SENTINELS), name: s.REDIS_SENTINEL_NAME, sentinelPassword: s.REDIS_SENTINEL_PASSWORD, username, password, tls, db };
  }
  if (s.REDIS_CLUSTER_NODES) {
    if (db !== 0) throw new Error(`REDIS_URL selects database ${db}, but a Redis Cluster has only database 0`);
    return { mode: 'cluster', nodes: parseHostPorts(s.REDIS_CLUSTER_NODES), username, password, tls };
  }
  if (!s.REDIS_URL) {
    if (s.REDIS_PASSWORD) throw new Error('REDIS_PASSWORD is set without REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
    if (s.REDIS_TLS) throw new Error('REDIS_TLS is set without REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES');
    return undefined;
  }
  return { mode: 'standalone', url: s.REDIS_URL, password: s.REDIS_PASSWORD, tls };
}
