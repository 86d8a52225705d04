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
// ACCESS_LOG=false to the rounds: what the instrumentation costs),
// BENCH_WORKERS (comma-separated WORKERS values measured besides 1, "2" by
// default, "" for none: a Latchkey with that many node:cluster workers; its
// CPU time is the primary's plus its workers').
import autocannon, { type Result } from 'autocannon';
import { childPids, cpuTimeUs } from '../test/helpers/process-tree.ts';
import { startBare, startLatchkey, stopTargets, stopTargetsOnSignals, tokenRequestBody, tokenRequestHeaders, verifyToken, type Target } from './targets.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const NODE_ARGS = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const COMPARE_METRICS = process.env.BENCH_COMPARE_METRICS === '1';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const WORKERS = (process.env.BENCH_WORKERS ?? '2').split(',').map((n) => n.trim()).filter(Boolean);

interface Round { result: Result; cpuUs: number | undefined }
interface Measured extends Target { rounds: Round[] }
const rps = (result: Result) => result['2xx'] / result.duration;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** CPU time (user + system) a server and its children (WORKERS) used so far, in µs; undefined off Linux. */
function cpuTime(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = cpuTimeUs(pid);
  return own === undefined ? undefined : childPids(pid).reduce((sum, child) => sum + (cpuTimeUs(child) ?? 0), own);
}

async function load(target: Measured, duration: number): Promise<Round> {
  const before = cpuTime(target.pid);
  const result = await autocannon({
    url: target.url, method: 'POST', headers: tokenRequestHeaders(target), body: tokenRequestBody, connections: CONNECTIONS, pipelining: 1, duration,
  });
  const after = cpuTime(target.pid);
  const cpuUs = before === undefined || after === undefined || !result['2xx'] ? undefined : (after - before) / result['2xx'];
  return { result, cpuUs };
}

stopTargetsOnSignals();

async function main() {
  const started = [await startLatchkey('latchkey', { env: { LOG_LEVEL }, nodeArgs: NODE_ARGS })];
  if (COMPARE_METRICS) started.push(await startLatchkey('uninstrumented', { env: { LOG_LEVEL, METRICS_PORT: 'off', ACCESS_LOG: 'false' }, nodeArgs: NODE_ARGS }));
  for (const workers of WORKERS) started.push(await startLatchkey(`WORKERS=${workers}`, { env: { LOG_LEVEL, WORKERS: workers }, nodeArgs: NODE_ARGS }));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the servers' admin caches notice the new rows
  started.splice(1, 0, await startBare('oidc-provider', { nodeArgs: NODE_ARGS }));
  const targets: Measured[] = started.map((target) => ({ ...target, rounds: [] }));
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

  const cpuValues = (target: Measured) => target.rounds.map((r) => r.cpuUs).filter((us) => us !== undefined);
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
  const [n, m] = rows.map((row) => row['median req/s']);
  console.log(`client_credentials ratio ${(n / m).toFixed(2)} (latchkey ${n}/s, oidc-provider ${m}/s)`);
  const uninstrumented = rows.find((row) => row.server === 'uninstrumented');
  for (const row of rows.filter((r) => r.server.startsWith('WORKERS='))) {
    const cpu = typeof cpuN === 'number' && typeof row['CPU us/token'] === 'number' ? `, CPU per token ${cpuN} us vs ${row['CPU us/token']} us` : '';
    console.log(`workers: WORKERS=1 ${n}/s, ${row.server} ${row['median req/s']}/s (x${(row['median req/s'] / n).toFixed(2)})${cpu}`);
  }
  if (uninstrumented) {
    const off = uninstrumented['median req/s'];
    const cpuOff = uninstrumented['CPU us/token'];
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
  await stopTargets();
}
