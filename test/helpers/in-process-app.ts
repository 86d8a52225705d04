// Latchkey inside the test's own process, needing no service: the server's
// own wiring (server/assemble.ts, as `npm start` without DATABASE_URL and
// REDIS_URL runs it: embedded PGlite, the in-process session store) behind a
// node:http server on an ephemeral port. The one launcher of the in-process
// suites; suites needing a real process, Postgres or Redis use startServer
// (server-process.ts).
//
// A fresh PGlite database costs seconds of initdb, so each one is a copy of a
// migrated embedded data folder built once per migrations version (named by
// the same hash as the Postgres template) in the temp folder.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AccountService } from '../../server/accounts/account-service.ts';
import { assembleServer } from '../../server/assemble.ts';
import { loadConfig, type Config } from '../../server/config/index.ts';
import type { Database } from '../../server/db/database.ts';
import { openEmbedded } from '../../server/db/embedded.ts';
import { migrate } from '../../server/db/migrate.ts';
import type { CreatedUser } from './oidc-http.ts';
import { templateName } from './services.ts';

export interface InProcessApp {
  /** http://localhost:<port>: the issuer, and where requests go. */
  issuer: string;
  config: Config;
  db: Database;
  accounts: AccountService;
  /** A user made with the accounts service the CLI's `users create` uses; random email and strong password unless given. */
  createUser(options?: { email?: string; password?: string }): Promise<CreatedUser>;
  stop(): Promise<void>;
}

const pgdata = (dataDir: string) => join(dataDir, 'pgdata');

/** The migrated embedded data folder to copy, built (under a temporary name, renamed when complete) if absent. */
async function embeddedTemplate(): Promise<string> {
  const template = join(tmpdir(), `latchkey-embedded-${templateName().replace(/^latchkey_template_/, '')}`);
  if (existsSync(template)) return template;
  const building = mkdtempSync(join(tmpdir(), 'latchkey-embedded-building-'));
  try {
    const db = await openEmbedded(building);
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    renameSync(building, template);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    // Another test file built it at the same time: theirs is as good.
    if (existsSync(template)) return template;
    throw error;
  }
  return template;
}

/**
 * Starts Latchkey in this process on 127.0.0.1:<ephemeral port>, issuer
 * http://localhost:<port>, development mode. `env` adds or overrides settings
 * (the process environment is not read: no DATABASE_URL or REDIS_URL leaks in).
 */
export async function startInProcessApp(options: { env?: Record<string, string> } = {}): Promise<InProcessApp> {
  // The port first: the issuer names it, and the config is built with the issuer.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-in-process-'));
  const closeServer = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    cpSync(pgdata(await embeddedTemplate()), pgdata(dataDir), { recursive: true });
    const config = loadConfig({
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://localhost:${port}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...options.env,
    });
    const assembled = await assembleServer(config, pino({ level: config.logLevel }));
    server.on('request', assembled.listener);
    return {
      issuer: config.issuer,
      config,
      db: assembled.db,
      accounts: assembled.accounts,
      async createUser(user = {}) {
        const email = user.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
        const password = user.password ?? `Tq-${randomBytes(12).toString('base64url')}`;
        const account = await assembled.accounts.create({ email, name: 'Test User', emailVerified: true, password });
        return { id: account.id, email, name: 'Test User', password };
      },
      async stop() {
        await closeServer();
        await assembled.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await closeServer();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
