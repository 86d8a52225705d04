// Embedded mode: PGlite persisted in DATA_DIR, served to pg clients over a unix
// socket inside DATA_DIR (private to the user owning the folder). The server
// owns the PGlite instance; the CLI connects to the same socket while the
// server runs, and opens the folder itself when it does not.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from './database.ts';

const SOCKET_NAME = '.s.PGSQL.5432';

export const embeddedSocketPath = (dataDir: string): string => join(dataDir, SOCKET_NAME);

/** Is a live process serving the embedded database on DATA_DIR's socket? */
export function embeddedServerRunning(dataDir: string): Promise<boolean> {
  const path = embeddedSocketPath(dataDir);
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** pg pool over the socket of an embedded database another process serves. */
export function connectEmbeddedSocket(dataDir: string, max = 4): Database {
  // pg treats a host starting with "/" as a unix socket directory.
  return createDatabase(new pg.Pool({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres', max }));
}

/** Opens PGlite in DATA_DIR and serves it on the socket; returns a pool over it. */
export async function openEmbedded(dataDir: string): Promise<Database> {
  if (await embeddedServerRunning(dataDir)) {
    throw new Error(`another Latchkey process is already using ${dataDir} (stop it, or set DATA_DIR)`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  rmSync(embeddedSocketPath(dataDir), { force: true }); // stale socket of a crashed process
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const pglite = await PGlite.create(join(dataDir, 'pgdata'));
  // maxConnections > 1 lets a pg.Pool connect; PGlite still runs one query at a time.
  const server = new PGLiteSocketServer({ db: pglite, path: embeddedSocketPath(dataDir), maxConnections: 16 });
  await server.start();
  const db = createDatabase(
    new pg.Pool({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres', max: 4 }),
    async () => {
      await server.stop();
      await pglite.close();
      rmSync(embeddedSocketPath(dataDir), { force: true });
    },
  );
  return db;
}
