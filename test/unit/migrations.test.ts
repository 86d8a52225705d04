import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queryable } from '../../server/db/database.ts';
import { readMigrations } from '../../server/db/migrate.ts';

const made: string[] = [];
test.after.always(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const dirWith = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-migrations-'));
  made.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
};

test('the shipped migrations are numbered from 0001 without gaps', (t) => {
  const migrations = readMigrations();
  t.true(migrations.length >= 1);
  t.deepEqual(migrations.map((m) => m.version), migrations.map((_, i) => i + 1));
  t.is(migrations[0].name, 'init');
});

test('migrations are read in numeric order', (t) => {
  const migrations = readMigrations(dirWith({ '0002_second.sql': 'b', '0001_first.sql': 'a' }));
  t.deepEqual(migrations.map((m) => m.name), ['first', 'second']);
});

test('a gap in the numbering is refused', (t) => {
  t.throws(() => readMigrations(dirWith({ '0001_a.sql': '', '0003_c.sql': '' })), { message: /without gaps/ });
});

test('a badly named file is refused', (t) => {
  t.throws(() => readMigrations(dirWith({ '1_a.sql': '' })), { message: /must be named NNNN_name.sql/ });
  t.throws(() => readMigrations(dirWith({ '0001_A.ts': '' })), { message: /must be named NNNN_name.sql \(or NNNN_name.ts/ });
});

test('two migrations with one number are refused', (t) => {
  t.throws(() => readMigrations(dirWith({ '0001_a.sql': '', '0001_a.ts': '' })), { message: /two migrations are numbered 0001/ });
});

/** A Queryable that records the SQL it is given. */
function recorder() {
  const sql: string[] = [];
  const tx: Queryable = { query: async (text: string, params?: unknown[]) => { sql.push(params ? `${text} ${JSON.stringify(params)}` : text); return { rows: [], rowCount: 0 } as any; } };
  return { sql, tx };
}

test('.ts migrations are read with the .sql ones, in numeric order, and run their up(tx) on the runner\'s transaction', async (t) => {
  const migrations = readMigrations(dirWith({
    '0002_backfill.ts': "export async function up(tx) { await tx.query('UPDATE t SET b = $1', [1]); }\n",
    '0001_first.sql': 'CREATE TABLE t (a int)',
    '0003_last.sql': 'DROP TABLE t',
    'README.md': 'not a migration',
  }));
  t.deepEqual(migrations.map((m) => [m.version, m.name]), [[1, 'first'], [2, 'backfill'], [3, 'last']]);
  const { sql, tx } = recorder();
  for (const migration of migrations) await migration.up(tx);
  t.deepEqual(sql, ['CREATE TABLE t (a int)', 'UPDATE t SET b = $1 [1]', 'DROP TABLE t']);
});

test('a .ts migration without up(tx) fails when applied, naming the file', async (t) => {
  const [migration] = readMigrations(dirWith({ '0001_nothing.ts': 'export const down = 1;\n' }));
  await t.throwsAsync(migration.up(recorder().tx), { message: 'migration 0001_nothing.ts must export up(tx)' });
});
