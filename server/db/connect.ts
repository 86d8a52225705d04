// Picks the database for a process: Postgres when DATABASE_URL is set, else the
// embedded PGlite in DATA_DIR (served by the running server, or opened here).
import type { Config } from '../config/index.ts';
import { connectPostgres, type Database } from './database.ts';
import { connectEmbeddedSocket, embeddedServerRunning, openEmbedded } from './embedded.ts';

/** The server: owns the embedded database when there is no DATABASE_URL. */
export function openServerDatabase(config: Config, onIdleError: (error: Error) => void): Promise<Database> {
  return config.databaseUrl ? Promise.resolve(connectPostgres(config.databaseUrl, 10, onIdleError)) : openEmbedded(config.dataDir);
}

/** The CLI: reuses a running embedded server's socket rather than opening the folder twice. */
export async function openCliDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return connectPostgres(config.databaseUrl, 2);
  if (await embeddedServerRunning(config.dataDir)) return connectEmbeddedSocket(config.dataDir, 2);
  return openEmbedded(config.dataDir);
}
