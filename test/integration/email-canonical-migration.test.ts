// needs: postgres
// Migration 0006 (accounts.email_canonical, backfilled in TypeScript with
// canonicalEmail) on databases at the previous schema, and the runner's
// TypeScript migrations: same transaction, same advisory lock, all or nothing.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccountService } from '../../server/accounts/account-service.ts';
import { loadConfig } from '../../server/config/index.ts';
import { connectPostgres, type Database } from '../../server/db/database.ts';
import { migrate, readMigrations } from '../../server/db/migrate.ts';
import { ConflictError } from '../../server/errors.ts';
import { createEmptyDatabase } from '../helpers/services.ts';

const config = loadConfig({ NODE_ENV: 'test' });
const cleanups: (() => Promise<void> | void)[] = [];
test.after.always(async () => { for (const cleanup of cleanups.reverse()) await cleanup(); });

async function freshDatabase(): Promise<Database> {
  const created = await createEmptyDatabase();
  const db = connectPostgres(created.url);
  cleanups.push(async () => { await db.close(); await created.drop(); });
  return db;
}

/** The migrations up to, and including, `version` (these tests are about 0006, whatever came after it). */
const through = (version: number) => readMigrations().filter((m) => m.version <= version);

/** A database migrated up to, and including, `version`. */
async function databaseAt(version: number): Promise<Database> {
  const db = await freshDatabase();
  await migrate(db, through(version));
  return db;
}

async function insertRaw(db: Database, email: string): Promise<string> {
  const id = randomUUID();
  await db.query('INSERT INTO accounts (id, email, password_hash) VALUES ($1, $2, $3)', [id, email, 'x']);
  return id;
}

const appliedVersions = async (db: Database) =>
  (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);

test('C56: a database at the previous schema migrates; every account is found by every spelling and keeps its email as typed', async (t) => {
  const db = await databaseAt(5);
  const spellings: Record<string, string[]> = {
    'Ann.Smith@Example.COM': ['ann.smith@example.com', 'ANN.SMITH@EXAMPLE.COM', ' ａｎｎ.smith@example.com '],
    'ibis@example.com': ['İbis@example.com', 'IBIS@example.com', 'ıbis@example.com', 'I\u0307bis@Example.com'],
    'Straße@Example.de': ['strasse@example.de', 'STRASSE@EXAMPLE.DE', 'straſſe@example.de', 'STRAẞE@example.de'],
    '\u212Bsa.\u212Aim@example.org': ['åsa.kim@example.org', 'ÅSA.KIM@EXAMPLE.ORG', 'A\u030Asa.kim@example.org'],
    'ﬁona@example.net': ['fiona@example.net', 'FIONA@example.net', 'Fiona@EXAMPLE.NET'],
  };
  const ids: Record<string, string> = {};
  for (const email of Object.keys(spellings)) ids[email] = await insertRaw(db, email);

  t.deepEqual((await migrate(db, through(6))).map((m) => m.version), [6]);
  t.deepEqual(await appliedVersions(db), [1, 2, 3, 4, 5, 6]);
  const accounts = createAccountService(db, config);
  for (const [email, others] of Object.entries(spellings)) {
    for (const spelling of [email, ...others]) {
      const found = await accounts.findByEmail(spelling);
      t.is(found?.id, ids[email], `${JSON.stringify(spelling)} finds ${JSON.stringify(email)}`);
      t.is(found?.email, email, 'the email stays as typed');
    }
  }
  t.is(await accounts.findByEmail('ibis@example.co'), undefined);

  // The column is required and unique; the locale-dependent index is gone.
  const column = await db.query(`SELECT is_nullable FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'email_canonical'`);
  t.is(column.rows[0]?.is_nullable, 'NO');
  const indexes = (await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'accounts'`)).rows.map((r) => r.indexname);
  t.true(indexes.includes('accounts_email_canonical'));
  t.false(indexes.includes('accounts_email_lower'));
  const duplicate = await t.throwsAsync(accounts.create({ email: 'STRASSE@example.de', password: 'Tq-unrelated-passphrase-1' }));
  t.true(duplicate instanceof ConflictError);
  t.is(duplicate?.message, 'an account with this email already exists');
  await t.throwsAsync(db.query('INSERT INTO accounts (id, email, password_hash) VALUES ($1, $2, $3)', [randomUUID(), 'new@example.com', 'x']),
    { message: /email_canonical/ }, 'a row without the canonical form is refused');
});

test('C56: the migration refuses accounts that become one address, names their ids in one line, and changes nothing', async (t) => {
  const db = await databaseAt(5);
  // Distinct for lower(), one address once folded.
  const strasse = await insertRaw(db, 'strasse@example.com');
  const strasze = await insertRaw(db, 'STRAßE@example.com');
  const sam = await insertRaw(db, 'sam@example.com');
  const longS = await insertRaw(db, 'ſam@example.com');
  const alone = await insertRaw(db, 'alone@example.com');

  const error = await t.throwsAsync(migrate(db, through(6)));
  t.log(error?.message);
  t.regex(error?.message ?? '', /^migration 0006: accounts /);
  t.false(error?.message.includes('\n'), 'one line');
  for (const id of [strasse, strasze, sam, longS]) t.true(error?.message.includes(id), `names ${id}`);
  t.false(error?.message.includes(alone), 'names only the clashing accounts');
  t.false(/example\.com/.test(error?.message ?? ''), 'ids, not emails');

  // Rolled back: not recorded, no column, and the accounts are as they were.
  t.deepEqual(await appliedVersions(db), [1, 2, 3, 4, 5]);
  const column = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'email_canonical'`);
  t.is(column.rowCount, 0);
  t.is((await db.query('SELECT 1 FROM accounts')).rowCount, 5);

  // Once the operator gives one of each pair another address, it applies.
  await db.query(`UPDATE accounts SET email = 'strasse.2@example.com' WHERE id = $1`, [strasze]);
  await db.query('DELETE FROM accounts WHERE id = $1', [longS]);
  t.deepEqual((await migrate(db, through(6))).map((m) => m.version), [6]);
  t.is((await createAccountService(db, config).findByEmail('STRAẞE@EXAMPLE.COM'))?.id, strasse);
});

test('a .ts migration runs in the runner\'s transaction under its advisory lock: a failure rolls all of it back', async (t) => {
  const db = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-ts-migrations-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, '0001_table.sql'), 'CREATE TABLE notes (text text NOT NULL, locks integer)');
  writeFileSync(join(dir, '0002_fill.ts'), `
    export async function up(tx) {
      const { rows } = await tx.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
      await tx.query('INSERT INTO notes (text, locks) VALUES ($1, $2)', ['from ts', rows[0].n]);
    }
  `);
  writeFileSync(join(dir, '0003_fails.ts'), `
    export async function up(tx) {
      await tx.query("INSERT INTO notes (text) VALUES ('half done')");
      throw new Error('backfill failed');
    }
  `);
  await t.throwsAsync(migrate(db, readMigrations(dir)), { message: 'backfill failed' });
  t.deepEqual(await appliedVersions(db), [1, 2]);
  t.deepEqual((await db.query('SELECT text, locks FROM notes')).rows, [{ text: 'from ts', locks: 1 }]);
});
