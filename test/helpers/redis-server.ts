// Disposable redis-server processes (Debian's redis-server) for the tests
// that stop, freeze, restart or fail over Redis: each on a free loopback
// port with its own directory, never the shared Redis on 6379.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './server-process.ts';

export interface RedisServer {
  port: number;
  url: string;
  /** Its working directory (AOF and RDB files live here and outlive a restart). */
  dir: string;
  /** Extra redis-server arguments it was started with (`--appendonly yes`, `--replicaof ...`). */
  args: string[];
  /** Stops it (SIGTERM, or SIGKILL when asked) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that hangs without closing anything. */
  pause(): void;
  resume(): void;
  /** A short-lived client for set-up and checks. */
  client(): Redis;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

async function waitForPing(port: number, timeoutMs: number, password?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      if (await probe.ping() === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      probe.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `password`: the requirepass given in `args`, for the helper's own probes and clients. */
export async function startRedisServer(options: { args?: string[]; port?: number; password?: string } = {}): Promise<RedisServer> {
  const port = options.port ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-redis-'));
  const args = options.args ?? [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const running = child;
    running.stdout!.on('data', (chunk) => { output = (output + chunk).slice(-16_384); });
    running.stderr!.on('data', (chunk) => { output = (output + chunk).slice(-16_384); });
    exited = new Promise((resolve) => running.once('exit', () => resolve()));
    try {
      await waitForPing(port, 10_000, options.password);
    } catch (error) {
      throw new Error(`${(error as Error).message}:\n${output}`, { cause: error });
    }
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill(signal);
      await exited;
    }
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    args,
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    client: () => new Redis({ port, host: '127.0.0.1', password: options.password, maxRetriesPerRequest: 1 }),
    dispose: async () => {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
