// Where the tests find Postgres and Redis, and per-test-file isolation:
// each file gets its own Postgres database and its own Redis key prefix.
//
// A test database is a copy of a migrated template (CREATE DATABASE ...
// TEMPLATE), so no test file runs the migrations itself: on a loaded machine
// running them in every set-up hook was slow enough to time queries out. The
// template is named by a hash of the migrations folder, so a change to the
// migrations makes a new one; `npm test` (test/run.ts) builds it before ava
// starts, and a run without it (ava directly) builds it on first use, under an
// advisory lock so parallel test files build it once. Tests of the migrations
// themselves use createEmptyDatabase.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { connectPostgres } from '../../server/db/database.ts';
import { migrate, MIGRATIONS_DIR } from '../../server/db/migrate.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const TEMPLATE_LOCK_ID = 7_420_114; // arbitrary, constant: "latchkey test template"

export interface TestDatabase { url: string; drop: () => Promise<void> }

function urlOf(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The template's name: a hash of every file in the migrations folder (names and contents). */
export function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update('\0').update(readFileSync(join(MIGRATIONS_DIR, file))).update('\0');
  }
  return `latchkey_template_${hash.digest('hex').slice(0, 16)}`;
}

let template: Promise<string> | undefined;

/**
 * Makes sure the migrated template for the current migrations exists and returns
 * its name. It is built under another name and renamed when complete, so a
 * build that dies half-way never leaves a half-migrated template behind.
 */
export function ensureTemplate(): Promise<string> {
  template ??= admin(async (client) => {
    const name = templateName();
    const exists = async () => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
    if (await exists()) return name;
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_ID]);
    try {
      if (await exists()) return name;
      const building = `latchkey_building_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE DATABASE ${building}`);
      try {
        const db = connectPostgres(urlOf(building));
        try {
          await migrate(db);
        } finally {
          await db.close();
        }
        await client.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
        await client.query(`ALTER DATABASE ${name} WITH IS_TEMPLATE true`);
      } catch (error) {
        await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
        throw error;
      }
      return name;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_ID]);
    }
  });
  template.catch(() => { template = undefined; }); // a failed build is retried by the next caller
  return template;
}

async function create(template?: string): Promise<TestDatabase> {
  const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`));
  return {
    url: urlOf(name),
    drop: () => admin(async (client) => { await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); }),
  };
}

/** A database next to TEST_DATABASE_URL's with every migration applied (a copy of the template); returns its URL and a drop function. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return create(await ensureTemplate());
}

/** An empty database (no schema at all), for the tests of the migrations and of a first start. */
export function createEmptyDatabase(): Promise<TestDatabase> {
  return create();
}

/** A Redis key prefix no other test file uses. */
export const uniqueRedisPrefix = (): string => `latchkey-test-${randomBytes(6).toString('hex')}:`;
