// npm run bench: client_credentials throughput of Latchkey (production mode:
// Postgres + Redis) against bare oidc-provider (memory adapter, bench/bare-oidc-provider.ts),
// both issuing ES256 JWT access tokens for one resource server, measured side
// by side in one run: warm-up, then alternating rounds (A B, B A, ...) with the
// same autocannon settings; only 2xx responses count. Besides req/s it reports
// each server process's CPU time per token (from /proc on Linux), which a
// noisy machine disturbs far less than throughput.
// Env: BENCH_DURATION (s per round, 5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10),
// BENCH_WARMUP (s, 3), BENCH_NODE_ARGS (extra node flags for both servers,
// e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_LOG_LEVEL (Latchkey's
// LOG_LEVEL: info, the production default, so its access log is measured),
// BENCH_COMPARE_METRICS=1 (adds a second Latchkey with METRICS_PORT=off and
// ACCESS_LOG=false to the rounds: what the instrumentation costs).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { freePort, NODE, ROOT, startServer, type RunningServer } from '../test/helpers/server-process.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const COMPARE_METRICS = process.env.BENCH_COMPARE_METRICS === '1';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const RESOURCE = 'https://bench.internal';
const SCOPE = 'bench:read';

interface Round { result: Result; cpuUs: number | undefined }
interface Target { name: string; url: string; authorization: string; pid: number | undefined; rounds: Round[] }

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const body = new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString();
const headers = (target: Target) => ({ authorization: target.authorization, 'content-type': 'application/x-www-form-urlencoded' });
const rps = (result: Result) => result['2xx'] / result.duration;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** CPU time (user + system) a process used so far, in µs; undefined off Linux. */
function cpuTime(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000; // utime + stime, in 100 Hz ticks
  } catch {
    return undefined;
  }
}

/** startServer hides the pid: find the Latchkey process by its ISSUER. */
function findServerPid(issuer: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server/main.ts')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ISSUER=${issuer}`)) return Number(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/** One token request; throws unless it is an ES256 JWT access token for RESOURCE. */
async function verifyToken(target: Target): Promise<void> {
  const response = await fetch(target.url, { method: 'POST', headers: headers(target), body });
  const json = await response.json() as { access_token?: string };
  if (!response.ok || !json.access_token) throw new Error(`${target.name}: token request failed (${response.status}): ${JSON.stringify(json)}`);
  const [header, payload] = json.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
  if (header.alg !== 'ES256' || header.typ !== 'at+jwt' || payload.aud !== RESOURCE || payload.scope !== SCOPE) {
    throw new Error(`${target.name}: unexpected token ${JSON.stringify({ header, payload })}`);
  }
}

async function load(target: Target, duration: number): Promise<Round> {
  const before = cpuTime(target.pid);
  const result = await autocannon({
    url: target.url, method: 'POST', headers: headers(target), body, connections: CONNECTIONS, pipelining: 1, duration,
  });
  const after = cpuTime(target.pid);
  const cpuUs = before === undefined || after === undefined || !result['2xx'] ? undefined : (after - before) / result['2xx'];
  return { result, cpuUs };
}

async function startBare(clientId: string, clientSecret: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(NODE, [...NODE_ARGS, join(ROOT, 'bench', 'bare-oidc-provider.ts')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret, BENCH_RESOURCE: RESOURCE, BENCH_SCOPE: SCOPE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bare = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => { output += chunk; if (output.includes('listening')) resolve(); });
    child.stderr!.on('data', (chunk) => { output += chunk; });
    child.once('exit', (code) => reject(new Error(`bare oidc-provider exited with ${code}:\n${output}`)));
  });
  return { child, port };
}

const latchkeys: RunningServer[] = [];
let bare: ChildProcess | undefined;
async function cleanup() {
  if (bare && bare.exitCode === null) bare.kill('SIGTERM');
  bare = undefined;
  // Stops each process group and drops its database.
  await Promise.all(latchkeys.splice(0).map((server) => server.stop()));
}

/** A Latchkey server with one API and one client_credentials client, as a target. */
async function startLatchkey(name: string, env: Record<string, string> = {}): Promise<Target> {
  const latchkey = await startServer({ command: [NODE, ...NODE_ARGS, join(ROOT, 'server', 'main.ts')], env: { LOG_LEVEL, ...env }, keepOutput: 64 * 1024 });
  latchkeys.push(latchkey);
  await latchkey.admin(['apis', 'create', '--identifier', RESOURCE, '--scope', SCOPE, '--ttl', '300']);
  const client = await latchkey.admin(['clients', 'create', '--name', 'bench', '--grant', 'client_credentials', '--api', RESOURCE, '--scope', SCOPE]);
  return { name, url: `${latchkey.issuer}/token`, authorization: basic(client.client_id, client.client_secret), pid: findServerPid(latchkey.issuer), rounds: [] };
}
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().finally(() => process.exit(143)));

async function main() {
  const latchkeyTargets = [await startLatchkey('latchkey')];
  if (COMPARE_METRICS) latchkeyTargets.push(await startLatchkey('uninstrumented', { METRICS_PORT: 'off', ACCESS_LOG: 'false' }));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the servers' admin caches notice the new rows

  const bareClient = { id: 'bench', secret: randomBytes(32).toString('base64url') };
  const { child, port } = await startBare(bareClient.id, bareClient.secret);

  const targets: Target[] = [
    latchkeyTargets[0],
    { name: 'oidc-provider', url: `http://localhost:${port}/token`, authorization: basic(bareClient.id, bareClient.secret), pid: child.pid, rounds: [] },
    ...latchkeyTargets.slice(1),
  ];
  for (const target of targets) await verifyToken(target);

  console.log(`warm-up ${WARMUP}s each, then ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections`);
  for (const target of targets) await load(target, WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    // A B, B A, A B, ... (A B C, C B A, ...): no server always runs right after the same other's load.
    for (const target of round % 2 ? [...targets].reverse() : targets) {
      const measured = await load(target, DURATION);
      target.rounds.push(measured);
      console.log(`  round ${round + 1} ${target.name.padEnd(13)} ${rps(measured.result).toFixed(0)} req/s`);
    }
  }

  const cpuValues = (target: Target) => target.rounds.map((r) => r.cpuUs).filter((us) => us !== undefined);
  const rows = targets.map((target) => ({
    server: target.name,
    'rounds req/s': target.rounds.map((r) => rps(r.result).toFixed(0)).join(' '),
    'median req/s': Math.round(median(target.rounds.map((r) => rps(r.result)))),
    'p50 ms': median(target.rounds.map((r) => r.result.latency.p50)),
    'p99 ms': median(target.rounds.map((r) => r.result.latency.p99)),
    'CPU us/token': cpuValues(target).length ? Math.round(median(cpuValues(target))) : '-',
  }));
  console.table(rows);

  for (const target of targets) {
    const results = target.rounds.map((r) => r.result);
    const ok = results.reduce((sum, r) => sum + r['2xx'], 0);
    const failed = results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0);
    if (failed > (ok + failed) * 0.01) {
      const codes: Record<string, number> = {};
      for (const r of results) for (const [code, { count }] of Object.entries(r.statusCodeStats)) codes[code] = (codes[code] ?? 0) + count;
      throw new Error(`${target.name}: ${failed} of ${ok + failed} requests failed (status codes ${JSON.stringify(codes)})`);
    }
  }
  const [cpuN, cpuM] = rows.map((row) => row['CPU us/token']);
  if (typeof cpuN === 'number' && typeof cpuM === 'number') {
    console.log(`CPU per token: latchkey ${cpuN} us, oidc-provider ${cpuM} us (ratio ${(cpuM / cpuN).toFixed(2)})`);
  }
  const [n, m, off] = rows.map((row) => row['median req/s']);
  console.log(`client_credentials ratio ${(n / m).toFixed(2)} (latchkey ${n}/s, oidc-provider ${m}/s)`);
  if (off !== undefined) {
    const cpuOff = rows[2]['CPU us/token'];
    const cpu = typeof cpuN === 'number' && typeof cpuOff === 'number' ? `, CPU per token ${cpuN} us vs ${cpuOff} us (+${((cpuN / cpuOff - 1) * 100).toFixed(1)} %)` : '';
    console.log(`metrics cost: latchkey ${n}/s with metrics, ${off}/s without (${((1 - n / off) * 100).toFixed(1)} % fewer)${cpu}`);
  }
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
