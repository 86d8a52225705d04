// needs: postgres redis
// Starts that cannot succeed: every store is checked before anything is
// written (a start refused because Redis is down has run no migration), and
// signing keys made under another master key are named as such, with the
// setting that fixes it, in one line.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, ROOT, runFailingStart, startServer } from '../helpers/server-process.ts';
import { createEmptyDatabase, createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services.ts';

const folders: string[] = [];
const tempFolder = () => {
  const folder = mkdtempSync(join(tmpdir(), 'latchkey-start-'));
  folders.push(folder);
  return folder;
};
test.after.always(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** One line: the reason, nothing else (no stack, no second message). */
function assertOneLine(t: { is: (a: unknown, b: unknown, m?: string) => void }, output: string) {
  t.is(output.trim().split('\n').length, 1, `one line:\n${output}`);
}

async function tablesIn(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
    return rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

/** A production environment on the test's Postgres and Redis (runFailingStart adds a port). */
const production = (databaseUrl: string) => ({
  NODE_ENV: 'production',
  DATABASE_URL: databaseUrl,
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: uniqueRedisPrefix(),
  LATCHKEY_SECRET: randomBytes(32).toString('base64'),
});

test('Redis unreachable: the start fails in one line naming Redis, before any migration', async (t) => {
  const database = await createEmptyDatabase();
  try {
    const { code, output } = await runFailingStart({ ...production(database.url), REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    t.is(code, 1, output);
    t.regex(output, /^Latchkey could not start: Redis \(redis:\/\/127\.0\.0\.1:\d+\) did not answer: /, 'names where Redis is, never a password');
    assertOneLine(t, output);
    t.deepEqual(await tablesIn(database.url), [], 'the database is as it was: no migration ran');
  } finally {
    await database.drop();
  }
});

test('Postgres unreachable: the start fails in one line naming Postgres', async (t) => {
  const { code, output } = await runFailingStart(production(`postgres://postgres@127.0.0.1:${await freePort()}/latchkey`));
  t.is(code, 1, output);
  t.regex(output, /^Latchkey could not start: Postgres \(DATABASE_URL\) did not answer: \S/);
  assertOneLine(t, output);
});

test('development with DATABASE_URL and another DATA_DIR: names the master.key used and says to set LATCHKEY_SECRET', async (t) => {
  const database = await createTestDatabase();
  try {
    const first = tempFolder();
    const server = await startServer({ mode: 'embedded', env: { DATABASE_URL: database.url, DATA_DIR: first } });
    await server.stop();

    const second = tempFolder();
    const { code, output } = await runFailingStart({ NODE_ENV: 'development', DATABASE_URL: database.url, DATA_DIR: second });
    t.is(code, 1, output);
    t.false(output.includes('Unsupported state'), output);
    t.true(output.includes(
      `Latchkey could not start: the signing keys in DATABASE_URL were encrypted with another key than DATA_DIR's master.key (${join(second, 'master.key')}): `
      + 'set the LATCHKEY_SECRET they were made with (or the DATA_DIR whose master.key made them)',
    ), output);
    assertOneLine(t, output);

    // The advice works: the first folder's master.key is that LATCHKEY_SECRET.
    const secret = readFileSync(join(first, 'master.key'), 'utf8').trim();
    const fixed = await startServer({ mode: 'embedded', env: { DATABASE_URL: database.url, DATA_DIR: second, LATCHKEY_SECRET: secret } });
    await fixed.stop();
    t.pass();
  } finally {
    await database.drop();
  }
});

test('production with another LATCHKEY_SECRET: says so in one line', async (t) => {
  const database = await createTestDatabase();
  try {
    const env = production(database.url);
    const made = await startServer({ mode: 'embedded', env });
    await made.stop();
    const { code, output } = await runFailingStart({ ...env, LATCHKEY_SECRET: randomBytes(32).toString('base64') });
    t.is(code, 1, output);
    t.is(output.trim(), 'Latchkey could not start: the signing keys in DATABASE_URL were encrypted with another key than this LATCHKEY_SECRET: set the LATCHKEY_SECRET they were made with');
  } finally {
    await database.drop();
  }
});

test('the version of package.json is in the start-up banner and in /healthz', async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const server = await startServer();
  try {
    const health = await fetch(`${server.issuer}/healthz`);
    t.deepEqual(await health.json(), { status: 'ok', version });
    t.true(server.output().startsWith(`Latchkey is running: ${server.issuer} (version ${version}, `), server.output());
  } finally {
    await server.stop();
  }
});
