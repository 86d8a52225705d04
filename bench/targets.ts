// The servers the benchmarks compare, started the same way for each of them:
// Latchkey in production mode (Postgres + Redis) with one API and one
// client_credentials client, and bare oidc-provider (bench/bare-oidc-provider.ts)
// with the same client and token format. `wrapper` runs a server under another
// program (valgrind, for bench/instructions.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childPids } from '../test/helpers/process-tree.ts';
import { freePort, NODE, ROOT, startServer, type RunningServer } from '../test/helpers/server-process.ts';

export const RESOURCE = 'https://bench.internal';
export const SCOPE = 'bench:read';

export interface Target {
  name: string;
  /** The token endpoint. */
  url: string;
  authorization: string;
  /** The server process (the wrapper's, when one runs it: valgrind keeps the pid of the program it runs). */
  pid: number | undefined;
}

export interface StartOptions {
  env?: Record<string, string>;
  nodeArgs?: string[];
  wrapper?: string[];
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
export const tokenRequestBody = new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString();
export const tokenRequestHeaders = (target: Target) => ({ authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' });

/**
 * The Latchkey process, found by its ISSUER (startServer's pid may be a
 * wrapper's); with WORKERS, the primary (its workers run server/main.ts with
 * the same ISSUER, and are its children).
 */
function findServerPid(issuer: string): number | undefined {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server/main.ts')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ISSUER=${issuer}`)) found.push(Number(pid));
    } catch {
      // gone, or not ours to read
    }
  }
  return found.find((pid) => !found.some((other) => childPids(other).includes(pid)));
}

const latchkeys: RunningServer[] = [];
const bares: ChildProcess[] = [];

/** A Latchkey server with one API and one client_credentials client. */
export async function startLatchkey(name: string, options: StartOptions = {}): Promise<Target> {
  const [command, ...args] = [...options.wrapper ?? [], NODE, ...options.nodeArgs ?? [], join(ROOT, 'server', 'main.ts')];
  const latchkey = await startServer({
    command: [command, ...args],
    env: options.env,
    keepOutput: 64 * 1024,
    // Under valgrind the start takes a while.
    timeoutMs: options.wrapper ? 600_000 : undefined,
  });
  latchkeys.push(latchkey);
  await latchkey.admin(['apis', 'create', '--identifier', RESOURCE, '--scope', SCOPE, '--ttl', '300']);
  const client = await latchkey.admin(['clients', 'create', '--name', 'bench', '--grant', 'client_credentials', '--api', RESOURCE, '--scope', SCOPE]);
  return { name, url: `${latchkey.issuer}/token`, authorization: basic(client.client_id, client.client_secret), pid: options.wrapper ? latchkey.pid : findServerPid(latchkey.issuer) };
}

/** Bare oidc-provider with the same kind of client. */
export async function startBare(name: string, options: StartOptions = {}): Promise<Target> {
  const port = await freePort();
  const id = 'bench';
  const secret = randomBytes(32).toString('base64url');
  const [command, ...args] = [...options.wrapper ?? [], NODE, ...options.nodeArgs ?? [], join(ROOT, 'bench', 'bare-oidc-provider.ts')];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env, NODE_ENV: 'production', PORT: String(port), BENCH_CLIENT_ID: id, BENCH_CLIENT_SECRET: secret, BENCH_RESOURCE: RESOURCE, BENCH_SCOPE: SCOPE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bares.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => { output += chunk; if (output.includes('listening')) resolve(); });
    child.stderr!.on('data', (chunk) => { output = (output + chunk).slice(-64 * 1024); });
    child.once('exit', (code) => reject(new Error(`bare oidc-provider exited with ${code}:\n${output}`)));
  });
  return { name, url: `http://localhost:${port}/token`, authorization: basic(id, secret), pid: child.pid };
}

/** Stops every server started here (and drops Latchkey's databases). */
export async function stopTargets(): Promise<void> {
  for (const child of bares.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(latchkeys.splice(0).map((server) => server.stop()));
}

/** One token request; throws unless it is an ES256 JWT access token for RESOURCE. */
export async function verifyToken(target: Target): Promise<void> {
  const response = await fetch(target.url, { method: 'POST', headers: tokenRequestHeaders(target), body: tokenRequestBody });
  const json = await response.json() as { access_token?: string };
  if (!response.ok || !json.access_token) throw new Error(`${target.name}: token request failed (${response.status}): ${JSON.stringify(json)}`);
  const [header, payload] = json.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  if (header.alg !== 'ES256' || header.typ !== 'at+jwt' || payload.aud !== RESOURCE || payload.scope !== SCOPE) {
    throw new Error(`${target.name}: unexpected token ${JSON.stringify({ header, payload })}`);
  }
}

/** Stops the servers on Ctrl-C or SIGTERM too. */
export function stopTargetsOnSignals(): void {
  process.once('SIGINT', () => void stopTargets().finally(() => process.exit(130)));
  process.once('SIGTERM', () => void stopTargets().finally(() => process.exit(143)));
}
