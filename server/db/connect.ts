// Picks the database for a process: Postgres when DATABASE_URL is set, else the
// embedded PGlite in DATA_DIR (served by the running server, or opened here).
import type { Config } from '../config/index.ts';
import { connectPostgres, type Database } from './database.ts';
import { connectEmbeddedSocket, embeddedServerRunning, openEmbedded } from './embedded.ts';

/** The server: owns the embedded database when there is no DATABASE_URL. */
export function openServerDatabase(config: Config, onIdleError: (error: Error) => void): Promise<Database> {
  return config.databaseUrl ? Promise.resolve(connectPostgres(config.databaseUrl, 10, onIdleError, config.databaseTimeouts)) : openEmbedded(config.dataDir);
}

/** Migrations at start: on their own connection, without the request path's statement timeout. */
export function openMigrationDatabase(config: Config): Database | undefined {
  return config.databaseUrl ? connectPostgres(config.databaseUrl, 1, undefined, { statementMs: 0, connectMs: config.databaseTimeouts.connectMs }) : undefined;
}

/** The CLI: reuses a running embedded server's socket rather than opening the folder twice. */
export async function openCliDatabase(config: Config): Promise<Database> {
  // An admin command (a migration, a large delete) may run as long as it needs; connecting may not.
  if (config.databaseUrl) return connectPostgres(config.databaseUrl, 2, undefined, { statementMs: 0, connectMs: config.databaseTimeouts.connectMs });
  if (await embeddedServerRunning(config.dataDir)) return connectEmbeddedSocket(config.dataDir, 2);
  return openEmbedded(config.dataDir);
}
