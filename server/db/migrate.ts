// Numbered migrations, applied in order, each in its own transaction, under an
// advisory lock so concurrent starts are safe. A migration is SQL
// (migrations/NNNN_name.sql) or, when it needs the application's own code
// (a backfill computed in JS), a module (NNNN_name.ts) exporting
// `up(tx: Queryable)`, run in that same transaction under that same lock.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Database, Queryable } from './database.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_ID = 7_420_113; // arbitrary, constant: "latchkey migrations"

export interface Migration {
  version: number;
  name: string;
  /** Applies the migration inside the runner's transaction; throwing rolls it back. */
  up(tx: Queryable): Promise<void>;
}

function sqlMigration(path: string): Migration['up'] {
  const sql = readFileSync(path, 'utf8');
  return async (tx) => { await tx.query(sql); };
}

// Imported only when applied: a database that is up to date never loads it.
function moduleMigration(path: string, file: string): Migration['up'] {
  return async (tx) => {
    const module = await import(pathToFileURL(path).href) as { up?: unknown };
    if (typeof module.up !== 'function') throw new Error(`migration ${file} must export up(tx)`);
    await module.up(tx);
  };
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql') || (file.endsWith('.ts') && !file.endsWith('.d.ts')))
    .map((file) => {
      const match = /^(\d{4})_([a-z0-9_]+)\.(sql|ts)$/.exec(file);
      if (!match) throw new Error(`migration file ${file} must be named NNNN_name.sql (or NNNN_name.ts, exporting up(tx))`);
      const path = join(dir, file);
      return { version: Number(match[1]), name: match[2], up: match[3] === 'sql' ? sqlMigration(path) : moduleMigration(path, file) };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    const number = String(m.version).padStart(4, '0');
    if (m.version === migrations[i - 1]?.version) throw new Error(`two migrations are numbered ${number}`);
    if (m.version !== i + 1) throw new Error(`migrations must be numbered 0001, 0002, ... without gaps (found ${number})`);
  });
  return migrations;
}

/** Applies pending migrations; returns the versions applied (empty when up to date). */
export async function migrate(db: Database, migrations = readMigrations()): Promise<Migration[]> {
  // Under the lock too: two first starts racing on CREATE TABLE IF NOT EXISTS can collide.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: Migration[] = [];
  for (const migration of migrations) {
    const didApply = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
      const { rowCount } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (rowCount) return false;
      await migration.up(tx);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (didApply) applied.push(migration);
  }
  return applied;
}
