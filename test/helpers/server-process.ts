// Starts the real Latchkey server as a child process (production mode on a
// fresh Postgres database and Redis prefix by default) and runs the real CLI
// against it. The one launcher of the e2e and security suites: their fixtures
// (startAuthzFixture, startMfaFixture, startMfaSuite) are set-ups on top of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix, type TestDatabase } from './services.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NODE = join(ROOT, 'node_modules', '.bin', 'node');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as the one JSON object `--json` prints. */
  json<T = Record<string, any>>(): T;
}

export interface RunningServer {
  /** The public issuer (https://localhost:<port> with `https: true`, while the process speaks plain http). */
  issuer: string;
  /** Where requests actually go: http://localhost:<port>. */
  origin: string;
  port: number;
  /** The server process (node itself, not a wrapper, unless `command` says otherwise). */
  pid: number;
  /** Settles when the process exits: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Where the metrics listener answers: http://127.0.0.1:<METRICS_PORT> (unless the caller's env turned it off). */
  metricsOrigin: string;
  env: Record<string, string>;
  /** Everything the process printed so far. */
  output(): string;
  cli(args: string[], options?: { stdin?: string }): Promise<CliResult>;
  /** `cli` that throws unless exit code 0, returning the parsed --json output. */
  admin<T = Record<string, any>>(args: string[], options?: { stdin?: string }): Promise<T>;
  /** Stops the process; drops the database only if startServer created it. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function runCli(env: Record<string, string>, args: string[], options: { stdin?: string; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [join(ROOT, 'server', 'cli', 'main.ts'), ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.stdin.end(options.stdin ?? '');
    child.once('close', (code) => resolve({
      code: code ?? 1,
      stdout,
      stderr,
      json: () => JSON.parse(stdout),
    }));
  });
}

/** `cli` with --json that throws unless it exits 0, returning the parsed output. */
export function adminCommand(cli: (args: string[], options?: { stdin?: string }) => Promise<CliResult>): RunningServer['admin'] {
  return async (args, options) => {
    const result = await cli([...args, '--json'], options);
    if (result.code !== 0) throw new Error(`latchkey ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.json();
  };
}

export async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${output()}`);
}

/**
 * Signals a detached child's whole process group (npm start spawns node), then
 * waits until every member is gone, not just the direct child: the data folder
 * and the port are only free then. SIGKILL after 10 s.
 */
export async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const groupAlive = () => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!groupAlive()) return;
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const deadline = Date.now() + 10_000;
  while (groupAlive()) {
    if (Date.now() > deadline) {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const tempDataDir = () => mkdtempSync(join(tmpdir(), 'latchkey-e2e-'));

export interface StartOptions {
  /** 'production' (Postgres + Redis, the default) or 'embedded' (no DATABASE_URL/REDIS_URL). */
  mode?: 'production' | 'embedded';
  /** Serve ISSUER=https://localhost:<port> with TRUST_PROXY=true (requests then need X-Forwarded-Proto: https). */
  https?: boolean;
  /** Production mode on this database (kept on stop) instead of a fresh one (dropped on stop). */
  database?: TestDatabase;
  /** Extra environment; wins over everything else (e.g. LATCHKEY_SECRET to reuse a database). */
  env?: Record<string, string>;
  /** Command to run instead of `node server/main.ts` (e.g. npm start). */
  command?: [string, ...string[]];
  /** Working directory of the server (default: the project folder). */
  cwd?: string;
  timeoutMs?: number;
  /**
   * Keep only about the last this many characters of the server's output (the
   * bench: its access log would otherwise grow in the load generator's
   * process for the whole run). Default: everything.
   */
  keepOutput?: number;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  // A restart on the port of a stopped node (a rolling restart) passes env.PORT.
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  // Servers run side by side: each gets its own metrics port, never the shared default.
  const metricsPort = await freePort();
  const origin = `http://localhost:${port}`;
  const issuer = options.https ? `https://localhost:${port}` : origin;
  const owned = options.mode === 'embedded' || options.database ? undefined : await createTestDatabase();
  const database = options.mode === 'embedded' ? undefined : options.database ?? owned;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    LOG_LEVEL: 'warn',
    METRICS_PORT: String(metricsPort),
    ...(database
      ? {
          NODE_ENV: 'production',
          DATABASE_URL: database.url,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: uniqueRedisPrefix(),
          LATCHKEY_SECRET: randomBytes(32).toString('base64'),
        }
      : { NODE_ENV: 'development', DATA_DIR: tempDataDir() }),
    ...(options.https ? { TRUST_PROXY: 'true' } : {}),
    ...options.env,
  };
  const [command, ...args] = options.command ?? [NODE, join(ROOT, 'server', 'main.ts')];
  // Drop the caller's store settings so "embedded" really is embedded.
  const { DATABASE_URL: _d, REDIS_URL: _r, LATCHKEY_SECRET: _s, ...inherited } = process.env;
  const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: { ...inherited, ...env }, detached: true });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let printed = '';
  const keep = options.keepOutput;
  const append = (chunk: Buffer) => {
    printed += chunk;
    if (keep !== undefined && printed.length > 2 * keep) printed = printed.slice(-keep);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const output = () => printed;
  const stop = async () => {
    await stopProcessGroup(child);
    await owned?.drop();
    if (!database && !options.env?.DATA_DIR) rmSync(env.DATA_DIR, { recursive: true, force: true });
  };
  try {
    await waitForHealth(origin, child, output, options.timeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const cli = (cliArgs: string[], cliOptions?: { stdin?: string }) => runCli(env, cliArgs, cliOptions);
  return {
    issuer,
    origin,
    port,
    pid: child.pid!,
    exited,
    metricsOrigin: `http://127.0.0.1:${env.METRICS_PORT}`,
    env,
    output,
    cli,
    admin: adminCommand(cli),
    stop,
  };
}

export interface FailedStart {
  code: number;
  /** stdout and stderr, in the order printed. */
  output: string;
}

/**
 * Runs `node server/main.ts` on a free port with the caller's environment
 * minus the store settings, plus `env`, until it exits: for starts that must fail. A server
 * that is still running after `timeoutMs` is stopped and the test fails.
 */
export async function runFailingStart(env: Record<string, string>, timeoutMs = 30_000): Promise<FailedStart> {
  const { DATABASE_URL: _d, REDIS_URL: _r, LATCHKEY_SECRET: _s, ...inherited } = process.env;
  const port = String(await freePort());
  const defaults = { PORT: port, HOST: '127.0.0.1', ISSUER: `http://localhost:${port}`, LOG_LEVEL: 'warn', METRICS_PORT: '0' };
  const child = spawn(NODE, [join(ROOT, 'server', 'main.ts')], { cwd: ROOT, env: { ...inherited, ...defaults, ...env }, detached: true });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const result = await Promise.race([exited, timer]);
  if (result === 'timeout') {
    await stopProcessGroup(child);
    throw new Error(`the server did not exit within ${timeoutMs} ms:\n${output}`);
  }
  return { code: result, output };
}
