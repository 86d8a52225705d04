// Disposable Redis Sentinel set-ups for the failover drills: a primary, a
// replica and three redis-sentinel processes (Debian's), each on a free
// loopback port with its own directory. Sentinel is tuned for a quick drill
// (down after 1 s), not for production.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { freePort } from './server-process.ts';

export const SENTINEL_NAME = 'latchkey-drill';

export interface SentinelSetup {
  primary: RedisServer;
  replica: RedisServer;
  /** The sentinels' ports. */
  sentinelPorts: number[];
  /** REDIS_SENTINELS for Latchkey. */
  sentinels: string;
  /** The primary's port according to the first sentinel that answers. */
  primaryPort(): Promise<number | undefined>;
  dispose(): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const probe = (port: number, password?: string) => {
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  return client;
};

async function ask<T>(port: number, call: (client: Redis) => Promise<T>, password?: string): Promise<T> {
  const client = probe(port, password);
  try {
    await client.connect();
    return await call(client);
  } finally {
    client.disconnect();
  }
}

export interface SentinelOptions {
  /** requirepass of the data nodes (the replica and the sentinels authenticate with it). */
  password?: string;
  /** requirepass of the sentinels themselves. */
  sentinelPassword?: string;
}

export async function startSentinelSetup({ password, sentinelPassword }: SentinelOptions = {}): Promise<SentinelSetup> {
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  const primary = await startRedisServer({ args: auth, password });
  const replica = await startRedisServer({ args: [...auth, '--replicaof', '127.0.0.1', String(primary.port)], password });
  await until('the replica in sync', () => ask(replica.port, async (c) => /master_link_status:up/.test(await c.info('replication')), password), 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-sentinel-'));
  const children: ChildProcess[] = [];
  const sentinelPorts: number[] = [];
  for (let n = 0; n < 3; n++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${n}.conf`);
    // Sentinel rewrites its file (it records what it learns), so each has its own.
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
      `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
      `sentinel parallel-syncs ${SENTINEL_NAME} 1`,
      ...(password ? [`sentinel auth-pass ${SENTINEL_NAME} ${password}`] : []),
      ...(sentinelPassword ? [`requirepass ${sentinelPassword}`] : []),
      '',
    ].join('\n'));
    const child = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
    children.push(child);
    sentinelPorts.push(port);
  }
  const primaryPort = async () => {
    for (const port of sentinelPorts) {
      const reply = await ask(port, (c) => c.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME) as Promise<[string, string] | null>, sentinelPassword).catch(() => undefined);
      if (reply) return Number(reply[1]);
    }
    return undefined;
  };
  const dispose = async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all([primary.dispose(), replica.dispose()]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Every sentinel must know the replica and the other sentinels before a failover can be voted.
    await until('the sentinels ready', async () => {
      for (const port of sentinelPorts) {
        const info = await ask(port, (c) => c.call('SENTINEL', 'master', SENTINEL_NAME) as Promise<string[]>, sentinelPassword);
        const field = (name: string) => Number(info[info.indexOf(name) + 1]);
        if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
      }
      return true;
    }, 20_000);
  } catch (error) {
    await dispose();
    throw error;
  }
  return { primary, replica, sentinelPorts, sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','), primaryPort, dispose };
}
