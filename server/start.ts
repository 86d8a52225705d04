// The server: config -> stores -> provider -> HTTP server, and a clean
// shutdown on SIGINT/SIGTERM. Started by server/main.ts (the process entry).
import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import { createAccountService } from './accounts/account-service.ts';
import { createAdapterFactory } from './adapters/index.ts';
import { connectRedis, pingRedis, reportRedisOutage } from './adapters/redis-connection.ts';
import { createApiCache } from './apis/api-cache.ts';
import { createRequestListener } from './app.ts';
import { GenerationWatcher } from './cache/generation-watcher.ts';
import { createClientCache } from './clients/client-cache.ts';
import { listClients } from './clients/client-queries.ts';
import type { Config } from './config/index.ts';
import { buildKeyring, loadMasterKey } from './crypto/master-key.ts';
import { openServerDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { oneLine } from './errors.ts';
import { outsideRequests } from './http/request-id.ts';
import { createLogger } from './logging/logger.ts';
import { VERSION } from './version.ts';
import { ensureSigningKeys, loadSigningJwks, longestApiTokenTtl, nextKeyActivation } from './keys/key-store.ts';
import { ProviderHost } from './oidc/provider-host.ts';
import { createMfaServices } from './mfa/index.ts';
import { createSignInThrottle } from './throttle/sign-in-throttle.ts';
import { createSignInProgressStore } from './progress/sign-in-progress.ts';

const KEY_RECHECK_MS = 60_000; // retired keys leave JWKS once their tokens expired
const ACCOUNT_SETUP_TTL = 15 * 60; // time to scan a QR code and type its first code on /account

/**
 * Every store must answer before anything is written, so a start refused
 * because one is down leaves the others as they were (no half-run migration).
 */
async function checkStores(config: Config, db: Database, redis: Redis | undefined, redisError: () => Error | undefined) {
  await db.query('SELECT 1').catch((error) => {
    throw new Error(`${config.databaseUrl ? 'Postgres (DATABASE_URL)' : `the embedded database in ${config.dataDir}`} did not answer: ${oneLine(error)}`);
  });
  // ioredis' own error ("max retries per request") hides the cause its connection saw.
  if (redis) await pingRedis(redis).catch((error) => { throw new Error(`Redis (REDIS_URL) did not answer: ${oneLine(redisError() ?? error)}`); });
}

export interface StartOptions {
  /** The settings file read, if any (named in the start-up banner). */
  envFile?: string;
  /** Runs before the process exits on SIGINT/SIGTERM (tracing sends its last spans). */
  beforeExit?: () => Promise<void>;
}

export async function start(config: Config, options: StartOptions = {}) {
  const { envFile } = options;
  const logger = createLogger(config.logLevel);
  const keyring = buildKeyring(loadMasterKey(config), config);
  const db = await openServerDatabase(config, outsideRequests((error) => logger.warn({ err: error }, 'a pooled Postgres connection failed; it will be replaced')));
  // Until Redis first answered, its error is the start's one-line reason, not a line of its own.
  let checked = false;
  let redisError: Error | undefined;
  const reportOutage = config.redisUrl ? reportRedisOutage(config.redisUrl) : () => {};
  const redis = config.redisUrl
    ? connectRedis(config.redisUrl, (error) => (checked ? reportOutage(error) : (redisError = error)))
    : undefined;
  await checkStores(config, db, redis, () => redisError);
  checked = true;
  await migrate(db);
  await ensureSigningKeys(db, keyring.encryption);
  const adapterFactory = createAdapterFactory({ redis, keyPrefix: config.redisKeyPrefix });

  const accounts = createAccountService(db, config);
  await accounts.warmUp();
  const mfa = createMfaServices({ db, keyring, config, adapterFactory });
  const throttle = createSignInThrottle({ redis, keyPrefix: config.redisKeyPrefix, emailHashKey: keyring.throttle, logger });
  const clients = createClientCache(db);
  const apis = createApiCache(db);
  const host = new ProviderHost({
    config,
    cookieKeys: keyring.cookies,
    clients,
    apis,
    accounts,
    adapterFactory,
    hasFactors: (accountId) => mfa.factors.hasFactors(accountId),
    secretHashKey: keyring.secretHash,
    logger,
    loadClients: () => listClients(db),
    async loadJwks() {
      // Retired keys stay published until every token they signed has expired,
      // and no longer: after a leak, rotating must end the old key's trust.
      // (An older id_token_hint at logout then fails; clients send client_id.)
      const retention = Math.max(config.ttl.idToken, config.ttl.accessToken, await longestApiTokenTtl(db)) + 60;
      return loadSigningJwks(db, keyring.encryption, retention);
    },
  });
  await host.refresh();

  // A key rotated in with --activate-in starts signing at a set time: reload then.
  let activationTimer: NodeJS.Timeout | undefined;
  const scheduleKeyActivation = async () => {
    const at = await nextKeyActivation(db);
    clearTimeout(activationTimer);
    if (!at) return;
    activationTimer = setTimeout(() => {
      host.refresh().then(scheduleKeyActivation).catch((error) => logger.error({ err: error }, 'activating signing keys failed'));
    }, Math.max(0, at.getTime() - Date.now()) + 250);
    activationTimer.unref();
  };
  await scheduleKeyActivation();

  const watcher = new GenerationWatcher(db, config.cacheRefreshMs);
  const clearCaches = () => {
    clients.clear();
    apis.clear();
  };
  watcher.on('change', () => {
    // Caches first: secrets, grants and APIs are read from them, so a change
    // (a revoked secret, a deleted client) applies at once; again after the
    // rebuild, so nothing read in between outlives it.
    clearCaches();
    host.refresh()
      .then(scheduleKeyActivation)
      .catch((error) => logger.error({ err: error }, 'reloading clients and signing keys failed'))
      .finally(clearCaches);
  });
  watcher.on('error', (error) => logger.warn({ err: error }, 'checking for admin changes failed'));
  await watcher.start();
  const keyTimer = setInterval(() => void host.refresh().catch((error) => logger.error({ err: error }, 'key refresh failed')), KEY_RECHECK_MS);
  keyTimer.unref();

  const listener = createRequestListener({
    config,
    logger,
    host,
    provider: () => host.provider,
    passwords: accounts,
    accounts,
    clients,
    mfa,
    throttle,
    progress: createSignInProgressStore(adapterFactory('SignInProgress'), keyring.encryption, config.ttl.interaction),
    setups: createSignInProgressStore(adapterFactory('AccountSetup'), keyring.encryption, ACCOUNT_SETUP_TTL),
    csrfKey: keyring.csrf,
    cookieKeys: keyring.cookies,
    async healthy() {
      await db.query('SELECT 1');
      if (redis) await pingRedis(redis);
    },
  });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = createServer(listener).listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const embedded = !config.databaseUrl;
  console.log([
    `Latchkey is running: ${config.issuer} (version ${VERSION}, listening on ${config.host}:${port}, ${config.env} mode)`,
    `  discovery   ${config.issuer}/.well-known/openid-configuration`,
    `  database    ${embedded ? 'embedded PGlite (no DATABASE_URL)' : 'Postgres (DATABASE_URL)'}`,
    `  sessions    ${redis ? 'Redis (REDIS_URL)' : 'in-process store, lost on restart (no REDIS_URL)'}`,
    ...(embedded ? [`  data folder ${config.dataDir}`] : []),
    ...(envFile ? [`  settings    ${envFile} (the environment wins over it)`] : []),
    `Next, in another terminal: npx latchkey apis create --identifier https://orders.internal --scope "orders:read orders:write"`,
  ].join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    watcher.stop();
    clearInterval(keyTimer);
    clearTimeout(activationTimer);
    server.closeIdleConnections();
    await new Promise((resolve) => server.close(resolve));
    await redis?.quit().catch(() => {});
    await db.close();
    await options.beforeExit?.().catch(() => {});
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
