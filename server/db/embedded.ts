// Embedded mode: PGlite persisted in DATA_DIR, served to pg clients over a unix
// socket inside DATA_DIR (private to the user owning the folder). The server
// owns the PGlite instance; the CLI connects to the same socket while the
// server runs, and opens the folder itself when it does not. A lock file makes
// sure only one process ever opens the folder.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type Database } from './database.ts';

const SOCKET_NAME = '.s.PGSQL.5432';
const LOCK_NAME = 'latchkey.lock';

export const embeddedSocketPath = (dataDir: string): string => join(dataDir, SOCKET_NAME);

/** Is a live process serving the embedded database on DATA_DIR's socket? */
export function embeddedServerRunning(dataDir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(embeddedSocketPath(dataDir));
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

const pool = (dataDir: string, max: number) =>
  // pg treats a host starting with "/" as a unix socket directory.
  new pg.Pool({ host: dataDir, port: 5432, user: 'postgres', database: 'postgres', max });

/** pg pool over the socket of an embedded database another process serves. */
export function connectEmbeddedSocket(dataDir: string, max = 2): Database {
  return createDatabase(pool(dataDir, max), { exclusiveStatements: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

// Lock files this process holds: our own pid in a lock we do not hold is a
// previous run under the same pid (a container's pid 1) that crashed.
const held = new Set<string>();

/** Takes DATA_DIR's lock (pid file, created exclusively); a dead owner's lock is taken over. */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_NAME);
  for (let attempt = 0; attempt < 2 && !held.has(file); attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      held.add(file);
      return () => {
        held.delete(file);
        rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const content = readFileSync(file, 'utf8');
      const owner = Number(content);
      // Empty: its owner is writing it right now.
      if (content === '' || (owner !== process.pid && alive(owner))) break;
      rmSync(file, { force: true }); // left by a process that crashed
    }
  }
  throw new Error(`another Latchkey process is using ${dataDir} (stop it, or set DATA_DIR)`);
}

/** Opens PGlite in DATA_DIR and serves it on the socket; returns a pool over it. */
export async function openEmbedded(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700); // an existing folder keeps its mode otherwise
  const unlock = lockDataDir(dataDir);
  try {
    rmSync(embeddedSocketPath(dataDir), { force: true }); // stale socket of a crashed process
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const pglite = await PGlite.create(join(dataDir, 'pgdata'));
    // maxConnections > 1 lets a pg.Pool and the CLI connect; PGlite still runs one statement at a time.
    const server = new PGLiteSocketServer({ db: pglite, path: embeddedSocketPath(dataDir), maxConnections: 16 });
    await server.start();
    return createDatabase(pool(dataDir, 4), {
      exclusiveStatements: true,
      async onClose() {
        await server.stop();
        await pglite.close();
        rmSync(embeddedSocketPath(dataDir), { force: true });
        unlock();
      },
    });
  } catch (error) {
    unlock();
    throw error;
  }
}
