// Several Latchkey nodes behind haproxy (test/helpers/haproxy.ts), sharing
// one Postgres database, one Redis key prefix and one LATCHKEY_SECRET, the way
// a deployment runs them: ISSUER is haproxy's origin and TRUST_PROXY is on.
// Nodes can be stopped (SIGTERM), killed (SIGKILL) and started again on
// their own port.
import { randomBytes } from 'node:crypto';
import { startHaproxy, type Haproxy } from './haproxy.ts';
import { freePort, startServer, type RunningServer } from './server-process.ts';
import { createTestDatabase, uniqueRedisPrefix, type TestDatabase } from './services.ts';

export interface LatchkeyNodes {
  /** haproxy's origin, every node's ISSUER. */
  issuer: string;
  lb: Haproxy;
  /** The running process of each node (node1 is nodes[0]); replaced on restart. */
  nodes: RunningServer[];
  /** Each node's own port (kept across restarts). */
  ports: number[];
  /** The settings every node shares. */
  env: Record<string, string>;
  /** The admin CLI with the shared settings (any node's would do). */
  admin: RunningServer['admin'];
  cli: RunningServer['cli'];
  /** SIGTERM node i (0-based), waits for its exit. */
  stopNode(index: number): Promise<void>;
  /** SIGKILL node i (0-based), waits for its exit. */
  killNode(index: number): Promise<void>;
  /** Starts node i again on its port. */
  startNode(index: number): Promise<RunningServer>;
  stop(): Promise<void>;
}

export async function startLatchkeyNodes(count: number, extraEnv: Record<string, string> = {}): Promise<LatchkeyNodes> {
  const lbPort = await freePort();
  const issuer = `http://localhost:${lbPort}`;
  const database: TestDatabase = await createTestDatabase();
  const env: Record<string, string> = {
    ISSUER: issuer,
    TRUST_PROXY: 'true',
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    LATCHKEY_SECRET: randomBytes(32).toString('base64'),
    ...extraEnv,
  };
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const nodes: RunningServer[] = [];
  let lb: Haproxy | undefined;
  const start = (index: number) => startServer({ database, env: { ...env, PORT: String(ports[index]) } });
  const stopAll = async () => {
    await lb?.stop();
    await Promise.all(nodes.map((node) => node.stop()));
    await database.drop();
  };
  try {
    // The first start creates the signing keys; the others find them.
    nodes[0] = await start(0);
    (await Promise.all(ports.slice(1).map((_, i) => start(i + 1)))).forEach((node, i) => { nodes[i + 1] = node; });
    lb = await startHaproxy(ports, { port: lbPort });
  } catch (error) {
    await stopAll();
    throw error;
  }
  const first = nodes[0];
  return {
    issuer,
    lb,
    nodes,
    ports,
    env,
    admin: first.admin,
    cli: first.cli,
    async stopNode(index) {
      await nodes[index].stop();
    },
    async killNode(index) {
      process.kill(-nodes[index].pid, 'SIGKILL');
      await nodes[index].exited;
    },
    async startNode(index) {
      nodes[index] = await start(index);
      return nodes[index];
    },
    stop: stopAll,
  };
}
