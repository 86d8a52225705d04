import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
