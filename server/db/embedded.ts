// Embedded mode: PGlite persisted in DATA_DIR, served to pg clients over a unix
// socket inside DATA_DIR (private to the user owning the folder). The server
// owns the PGlite instance; the CLI connects to the same socket while the
// server runs, and opens the folder itself when it does not. A lock (a unix
// socket the process listens on, see lockDataDir) makes sure only one process
// ever opens the folder.
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
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

/** Listens on a unix socket path; rejects with the listen error (EADDRINUSE when the path exists). */
function listenOn(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // A prober (another process starting) only needs the connection to succeed.
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      server.unref(); // the lock alone keeps nobody running
      resolve(server);
    });
  });
}

/** Does a live process listen on this socket path? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false)); // ECONNREFUSED: nobody listens (a crashed holder's socket, or an old pid file)
  });
}

const inode = (path: string) => {
  try {
    return lstatSync(path).ino;
  } catch {
    return undefined;
  }
};

/**
 * Takes DATA_DIR's lock: a unix socket listening at DATA_DIR/latchkey.lock.
 * The kernel stops the listening when its process dies, however it dies, so
 * a lock is held exactly while its holder lives (a pid file was not: pids
 * are reused after a reboot or container restart, and zombies look alive).
 * A socket nobody listens on is a dead holder's: it is moved aside (rename
 * is atomic, so of two starts racing for it one moves it) and checked to
 * still be the one found dead before it is removed.
 */
async function lockDataDir(dataDir: string): Promise<() => void> {
  const path = join(dataDir, LOCK_NAME);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const server = await listenOn(path);
      return () => {
        server.close();
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
    const found = inode(path);
    if (await answers(path)) break;
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another start moved it first: try again
    }
    if (inode(aside) === found) rmSync(aside, { force: true });
    else renameSync(aside, path); // a live lock taken between the check and the move: put it back
  }
  throw new Error(`another Latchkey process is using ${dataDir} (stop it, or set DATA_DIR)`);
}

/** Opens PGlite in DATA_DIR and serves it on the socket; returns a pool over it. */
export async function openEmbedded(dataDir: string): Promise<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700); // an existing folder keeps its mode otherwise
  const unlock = await lockDataDir(dataDir);
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
