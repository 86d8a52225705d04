// npm run bench:instructions: the machine-token path's cost in instructions,
// counted by valgrind's callgrind: Latchkey (production mode, instrumented as
// deployed), Latchkey with METRICS_PORT=off and ACCESS_LOG=false, and bare
// oidc-provider, each answering the same client_credentials requests.
//
// Why: requests per second and CPU time swing by 10–30 % between runs on a
// shared virtual machine, far more than the few per cent this must resolve.
// An instruction count does not depend on what else the machine does. It
// leaves out the kernel's share (socket and pipe writes) and cache effects,
// so it complements `npm run bench`, it does not replace it.
//
// Each server starts under callgrind with instrumentation off (a normal-speed
// start), takes BENCH_WARMUP_TOKENS requests (the JIT settles), then counts
// the instructions of BENCH_TOKENS requests (4 at a time), all its threads
// included. The three run at once: counts do not depend on the load.
// Env: BENCH_TOKENS (1000), BENCH_WARMUP_TOKENS (1500), BENCH_REPEATS (2: each
// server measured that many times, the median counts; JIT and GC timing move
// a single count by up to ~3 %), BENCH_CALLGRIND_DIR (keep the callgrind
// files there, for callgrind_annotate; otherwise a temporary directory, removed).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBare, startLatchkey, stopTargets, stopTargetsOnSignals, tokenRequestBody, tokenRequestHeaders, verifyToken, type StartOptions, type Target } from './targets.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 1000);
const WARMUP = Number(process.env.BENCH_WARMUP_TOKENS ?? 1500);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 2);
const CONCURRENCY = 4;

const KEEP = process.env.BENCH_CALLGRIND_DIR;
const work = KEEP ? (mkdirSync(KEEP, { recursive: true }), KEEP) : mkdtempSync(join(tmpdir(), 'latchkey-callgrind-'));
// vgdb names its pipes after $HOST; Latchkey's own HOST setting (127.0.0.1) is what valgrind sees, so vgdb gets the same.
const VGDB_ENV = { ...process.env, HOST: '127.0.0.1' };
const wrapper = (name: string) => [
  'valgrind', '--tool=callgrind', '--instr-atstart=no', '--vgdb=yes', `--vgdb-prefix=${join(work, 'vgdb')}`,
  `--callgrind-out-file=${join(work, `${name}.%p`)}`,
];
const vgdb = (pid: number, ...command: string[]) =>
  execFileSync('vgdb', [`--vgdb-prefix=${join(work, 'vgdb')}`, `--pid=${pid}`, ...command], { env: VGDB_ENV, stdio: 'pipe' });

async function requests(target: Target, count: number): Promise<void> {
  const one = async () => {
    const response = await fetch(target.url, { method: 'POST', headers: tokenRequestHeaders(target), body: tokenRequestBody });
    if (!response.ok) throw new Error(`${target.name}: token request failed (${response.status}): ${await response.text()}`);
    await response.arrayBuffer();
  };
  for (let sent = 0; sent < count; sent += CONCURRENCY) await Promise.all(Array.from({ length: CONCURRENCY }, one));
}

/** Instructions per token of one server, started by `start` under callgrind. */
async function measure(name: string, start: (options: StartOptions) => Promise<Target>): Promise<number> {
  const target = await start({ wrapper: wrapper(name), env: { HOST: '127.0.0.1' } });
  await verifyToken(target);
  await requests(target, WARMUP);
  vgdb(target.pid!, 'instrumentation', 'on');
  await requests(target, TOKENS);
  vgdb(target.pid!, 'dump');
  // The dump's file is the output file name with a part number; its "totals:" line counts every thread.
  const dumps = readdirSync(work).filter((file) => file.startsWith(`${name}.${target.pid}.`));
  const totals = dumps.map((file) => Number(/^totals: (\d+)/m.exec(readFileSync(join(work, file), 'utf8'))?.[1] ?? 0));
  const instructions = Math.max(0, ...totals);
  if (!instructions) throw new Error(`${name}: callgrind wrote no totals (${dumps.join(', ') || 'no dump'})`);
  return instructions / TOKENS;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

stopTargetsOnSignals();
try {
  const servers: [string, (options: StartOptions) => Promise<Target>][] = [
    ['latchkey', (options) => startLatchkey('latchkey', { ...options, env: { ...options.env, LOG_LEVEL: 'info' } })],
    ['uninstrumented', (options) => startLatchkey('uninstrumented', { ...options, env: { ...options.env, LOG_LEVEL: 'info', METRICS_PORT: 'off', ACCESS_LOG: 'false' } })],
    ['oidc-provider', (options) => startBare('oidc-provider', options)],
  ];
  console.log(`callgrind: ${WARMUP} warm-up requests, then ${TOKENS} counted, ${REPEATS} time(s) per server`);
  const counts = new Map<string, number[]>(servers.map(([name]) => [name, []]));
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const results = await Promise.all(servers.map(async ([name, start]) => [name, await measure(`${name}-${repeat}`, start)] as const));
    for (const [name, perToken] of results) {
      counts.get(name)!.push(perToken);
      console.log(`  ${name.padEnd(14)} ${(perToken / 1000).toFixed(0)} k instructions per token`);
    }
    await stopTargets();
  }
  const [latchkey, uninstrumented, bare] = servers.map(([name]) => median(counts.get(name)!));
  console.table(servers.map(([name]) => ({ server: name, 'k instructions/token': Math.round(median(counts.get(name)!) / 1000), runs: counts.get(name)!.map((c) => Math.round(c / 1000)).join(' ') })));
  console.log(`instruction ratio ${(bare / latchkey).toFixed(2)} (oidc-provider ${Math.round(bare / 1000)}k / latchkey ${Math.round(latchkey / 1000)}k per token)`);
  const cost = (latchkey / uninstrumented - 1) * 100;
  console.log(`instrumentation cost: ${cost >= 0 ? '+' : ''}${cost.toFixed(1)} % instructions per token (${Math.round(latchkey / 1000)}k with, ${Math.round(uninstrumented / 1000)}k without)`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopTargets();
  if (!KEEP) rmSync(work, { recursive: true, force: true });
}
