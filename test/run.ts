// `npm test`: finds out which services this machine has, runs every suite it
// can with ava, and says which suites it skipped and why. A suite declares
// what it needs in a first-lines comment: `// needs: postgres redis chromium promtool`.
// Under CI (CI=true) a missing service is a failure, never a skip.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemplate, TEST_DATABASE_URL, TEST_REDIS_URL } from './helpers/services.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PROMTOOL = '/usr/bin/promtool';
const HAPROXY = '/usr/sbin/haproxy';

function reachable(url: string, defaultPort: number): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || defaultPort), timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(undefined); });
    socket.once('timeout', () => { socket.destroy(); resolve(`${hostname}:${port || defaultPort} timed out`); });
    socket.once('error', (error) => resolve(`${hostname}:${port || defaultPort} unreachable (${(error as NodeJS.ErrnoException).code})`));
  });
}

const missing: Record<string, string | undefined> = {
  postgres: await reachable(TEST_DATABASE_URL, 5432),
  redis: await reachable(TEST_REDIS_URL, 6379),
  chromium: existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install -y chromium)`,
  promtool: existsSync(PROMTOOL) ? undefined : `${PROMTOOL} not found (apt-get install -y prometheus)`,
  haproxy: existsSync(HAPROXY) ? undefined : `${HAPROXY} not found (apt-get install -y haproxy)`,
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'artifacts' ? [] : walk(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .map((path) => relative(root, path))
  .filter((path) => filter.length === 0 || filter.some((f) => path.includes(f)))
  .sort();
const run: string[] = [];
const skipped: string[] = [];
for (const file of files) {
  const head = readFileSync(join(root, file), 'utf8').split('\n', 5).join('\n');
  const needs = /\/\/ needs: ([a-z ]+)/.exec(head)?.[1].trim().split(/\s+/) ?? [];
  const absent = needs.filter((need) => missing[need]);
  if (absent.length) skipped.push(`${file}: ${absent.map((need) => `${need} ${missing[need]}`).join('; ')}`);
  else run.push(file);
}

if (skipped.length) {
  console.log(`Skipping ${skipped.length} suite(s) this machine cannot run:\n  ${skipped.join('\n  ')}`);
  if (process.env.CI === 'true') {
    console.error('CI=true: every suite must run; start the missing services (see .ci/run).');
    process.exit(1);
  }
}
if (run.length === 0) {
  console.error('No test suite to run.');
  process.exit(1);
}
// The migrated template every test database is copied from (see
// helpers/services.ts): built here, once, before the test files race for it.
if (!missing.postgres) {
  const started = performance.now();
  const template = await ensureTemplate();
  console.log(`Test databases are copies of ${template} (ready in ${Math.round(performance.now() - started)} ms).`);
}
const ava = join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const result = spawnSync(process.execPath, [ava, ...run], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TEST_DATABASE_URL, TEST_REDIS_URL },
});
if (skipped.length) console.log(`(${skipped.length} suite(s) skipped, listed above)`);
process.exit(result.status ?? 1);
