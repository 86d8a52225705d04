// A disposable Redis Cluster: three masters (Debian's redis-server with
// --cluster-enabled yes) on free loopback ports, joined with
// `redis-cli --cluster create`. Never the shared Redis on 6379.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { freePort } from './server-process.ts';

const run = promisify(execFile);

export interface RedisClusterSetup {
  nodes: RedisServer[];
  /** REDIS_CLUSTER_NODES for Latchkey. */
  seeds: string;
  dispose(): Promise<void>;
}

export async function startRedisCluster(masters = 3): Promise<RedisClusterSetup> {
  const nodes: RedisServer[] = [];
  const dispose = async () => { await Promise.all(nodes.map((node) => node.dispose())); };
  try {
    for (let n = 0; n < masters; n++) {
      // The bus port is given explicitly: port + 10000 may be past 65535 or taken.
      nodes.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-port', String(await freePort()), '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      const client = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        while (!/cluster_state:ok/.test(String(await client.call('CLUSTER', 'INFO')))) {
          if (Date.now() > deadline) throw new Error(`cluster node ${node.port} not ok within 20 s`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        client.disconnect();
      }
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { nodes, seeds: nodes.map((node) => `127.0.0.1:${node.port}`).join(','), dispose };
}
