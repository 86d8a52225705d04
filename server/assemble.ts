// The server's parts, wired: config -> stores (checked, migrated) -> signing
// keys -> provider, caches and their watchers -> readiness -> the HTTP request
// listener. start.ts listens with it; the in-process tests
// (test/helpers/in-process-app.ts) too.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { createAccountCache, redisAccountVersions } from './accounts/account-cache.ts';
import { createAccountService, type AccountService } from './accounts/account-service.ts';
import { createAdapterFactory } from './adapters/index.ts';
import { isCommandTimeout } from './adapters/errors.ts';
import { connectRedis, pingRedis, reportRedisOutage } from './adapters/redis-connection.ts';
import { describeRedis, type RedisClient } from './adapters/redis-topology.ts';
import { createApiCache } from './apis/api-cache.ts';
import { listApis } from './apis/api-queries.ts';
import { createRequestListener } from './app.ts';
import { GenerationWatcher } from './cache/generation-watcher.ts';
import { createClientCache } from './clients/client-cache.ts';
import { listClients } from './clients/client-queries.ts';
import type { Config } from './config/index.ts';
import { buildKeyring, loadMasterKey } from './crypto/master-key.ts';
import { openMigrationDatabase, openServerDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrate, readMigrations } from './db/migrate.ts';
import { oneLine } from './errors.ts';
import { outsideRequests } from './http/request-id.ts';
import { ACTIVITY_TYPES } from './account/activity.ts';
import { recentAccountActivity } from './events/audit-store.ts';
import { logSink } from './events/log-sink.ts';
import { PostgresAuditSink } from './events/postgres-sink.ts';
import { startAuditRetention } from './events/retention.ts';
import { SecurityEvents } from './events/security-event.ts';
import { createReadiness } from './health/readiness.ts';
import { NoAnswerError, StoreCheck, STORE_DEADLINE_MS } from './health/store-check.ts';
import { ensureSigningKeys, loadSigningJwks, longestApiTokenTtl, nextKeyActivation, signingSince } from './keys/key-store.ts';
import { LatchkeyMetrics } from './metrics/registry.ts';
import { SecurityEventMetrics } from './metrics/security-event-metrics.ts';
import { instrumentDatabase, instrumentRedis } from './metrics/store-metrics.ts';
import { createMfaServices } from './mfa/index.ts';
import { ProviderHost } from './oidc/provider-host.ts';
import { guardAccounts } from './oidc/store-guards.ts';
import { createSignInProgressStore } from './progress/sign-in-progress.ts';
import { createSignInThrottle } from './throttle/sign-in-throttle.ts';

const KEY_RECHECK_MS = 60_000; // retired keys leave JWKS once their tokens expired
const ACCOUNT_SETUP_TTL = 15 * 60; // time to scan a QR code and type its first code on /account

/**
 * Every store must answer before anything is written, so a start refused
 * because one is down leaves the others as they were (no half-run migration).
 */
async function checkStores(config: Config, db: Database, redis: RedisClient | undefined, redisError: () => Error | undefined) {
  await db.query('SELECT 1').catch((error) => {
    throw new Error(`${config.databaseUrl ? 'Postgres (DATABASE_URL)' : `the embedded database in ${config.dataDir}`} did not answer: ${oneLine(error)}`);
  });
  // ioredis' own error ("max retries per request") hides the cause its connection saw.
  if (redis) await pingRedis(redis).catch((error) => { throw new Error(`Redis (${describeRedis(config.redis!)}) did not answer: ${oneLine(redisError() ?? error)}`); });
}

export interface AssembledServer {
  /** The HTTP request listener (createRequestListener). */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
  db: Database;
  accounts: AccountService;
  /** Undefined with METRICS_PORT=off. */
  metrics?: LatchkeyMetrics;
  /** Whether sessions live in Redis (else in-process). */
  redis: boolean;
  /** Stops the timers and the watcher, then closes Redis and the database (not the HTTP servers). */
  close(): Promise<void>;
}

export interface AssembleOptions {
  /** Whether the HTTP server is shutting down (readiness then answers 503). */
  draining?: () => boolean;
}

/**
 * Everything between the config and the HTTP server: stores checked, migrated,
 * signing keys, provider, caches and their watchers, readiness, the request
 * listener. The one wiring of the process (start.ts) and of the in-process tests.
 */
export async function assembleServer(config: Config, logger: Logger, { draining = () => false }: AssembleOptions = {}): Promise<AssembledServer> {
  const keyring = buildKeyring(loadMasterKey(config), config);
  // METRICS_PORT=off: no metric is kept and nothing is instrumented.
  const metrics = config.metrics ? new LatchkeyMetrics() : undefined;
  const opened = await openServerDatabase(config, outsideRequests((error) => logger.warn({ err: error }, 'a pooled Postgres connection failed; it will be replaced')));
  const db = metrics ? instrumentDatabase(opened, metrics) : opened;
  // Until Redis first answered, its error is the start's one-line reason, not a line of its own.
  let checked = false;
  let redisError: Error | undefined;
  const reportOutage = config.redis ? reportRedisOutage(config.redis, logger) : () => {};
  const redis = config.redis
    ? connectRedis(config.redis, (error) => (checked ? reportOutage(error) : (redisError = error)), { commandTimeoutMs: config.redisCommandTimeoutMs })
    : undefined;
  if (redis && metrics) instrumentRedis(redis, metrics);
  await checkStores(config, db, redis, () => redisError);
  checked = true;
  // A long migration must not hit the request path's statement timeout.
  const migrationDb = openMigrationDatabase(config);
  try {
    await migrate(migrationDb ?? db);
  } finally {
    await migrationDb?.close();
  }
  await ensureSigningKeys(db, keyring.encryption);
  const adapterFactory = createAdapterFactory({ redis, keyPrefix: config.redisKeyPrefix });

  // Every security event is a JSON line on stdout and a row in audit_events (the audit
  // trail), and the metrics count it: one record, so the two never disagree.
  const events = new SecurityEvents();
  events.addSink(logSink(logger));
  const auditStore = new PostgresAuditSink(db, logger);
  events.addSink(auditStore);
  if (metrics) events.addSink(new SecurityEventMetrics(metrics));
  const stopRetention = startAuditRetention(db, config.audit.retention, logger);

  // With Redis, the token path's account reads are cached, kept coherent by a version per account.
  const accountVersions = redis ? redisAccountVersions(redis, config.redisKeyPrefix) : undefined;
  const accounts = createAccountService(db, config, logger, accountVersions?.bump);
  const tokenPathAccounts = accountVersions && config.accountCacheTtlMs > 0
    ? createAccountCache(accounts, accountVersions, { ttlMs: config.accountCacheTtlMs })
    : accounts;
  await accounts.warmUp();
  const mfa = createMfaServices({ db, keyring, config, adapterFactory });
  const throttle = createSignInThrottle({ redis, keyPrefix: config.redisKeyPrefix, emailHashKey: keyring.throttle, logger, events });
  const clients = createClientCache(db);
  const apis = createApiCache(db);
  const host = new ProviderHost({
    config,
    cookieKeys: keyring.cookies,
    clients,
    apis,
    accounts: guardAccounts(tokenPathAccounts),
    adapterFactory,
    hasFactors: (accountId) => mfa.factors.hasFactors(accountId),
    secretHashKey: keyring.secretHash,
    logger,
    metrics,
    events,
    loadClients: () => listClients(db),
    loadApis: () => listApis(db),
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

  // The rotation-due metric: SIGNING_KEY_ROTATION_INTERVAL after the keys in use started signing.
  let keysSignSince = await signingSince(db);
  const readKeyAge = async () => { keysSignSince = await signingSince(db); };
  if (metrics) {
    metrics.sources.keyRotationDue = () => keysSignSince && keysSignSince.getTime() + config.signingKeyRotationInterval * 1000;
  }

  // Clients, APIs and keys are loaded whole, in the background, while the
  // previous snapshot keeps serving; only a complete load is swapped in. A
  // failed one keeps the old snapshot and is retried at the next check. The
  // lookups of clients created since the last build are dropped only after
  // it (the new Provider knows them), so none outlives it.
  const watcher = new GenerationWatcher(db, config.cacheRefreshMs, () => host.refresh()
    .then(() => clients.clear())
    .then(scheduleKeyActivation)
    .then(readKeyAge));
  // An outage fails a check a second: log when it starts and when it ends, not each one.
  let watcherFailing = false;
  watcher.on('error', (error) => {
    if (!watcherFailing) logger.warn({ err: error }, 'checking for or applying admin changes failed; the clients, APIs and keys loaded before stay in use, retrying');
    watcherFailing = true;
  });
  watcher.on('checked', () => {
    if (watcherFailing) logger.info('admin changes are checked and applied again');
    watcherFailing = false;
  });
  await watcher.start();
  if (metrics) metrics.sources.adminCache = () => watcher.state;
  const keyTimer = setInterval(() => void host.refresh().then(readKeyAge).catch((error) => logger.error({ err: error }, 'key refresh failed')), KEY_RECHECK_MS);
  keyTimer.unref();

  // Readiness: the schema version is read by the Postgres check itself (one query per probe).
  const requiredVersion = readMigrations().length;
  let schemaVersion = requiredVersion;
  const storeChecks = [
    new StoreCheck('postgres', async () => {
      const { rows } = await db.query<{ version: number }>('SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations');
      schemaVersion = rows[0].version;
    }),
    ...(redis ? [new StoreCheck('redis', async () => {
      const reply = await redis.ping().catch((error: unknown) => {
        // ioredis' own command timeout (REDIS_COMMAND_TIMEOUT_MS) comes before the check's deadline.
        throw isCommandTimeout(error) ? new NoAnswerError('no answer to PING', { cause: error }) : error;
      });
      if (reply !== 'PONG') throw new Error(`answered PING with ${reply}`);
    })] : []),
  ];
  // A first outcome before the server listens: a probe never gets "no answer yet" from a slow first check.
  await Promise.all(storeChecks.map((check) => check.status(STORE_DEADLINE_MS)));
  const readiness = createReadiness(storeChecks, [
    { name: 'shutdown', failure: () => (draining() ? 'shutting down' : undefined) },
    { name: 'keys', failure: () => (host.started ? undefined : 'signing keys not loaded') },
    { name: 'migrations', failure: () => (schemaVersion < requiredVersion ? `database schema at ${schemaVersion}, this version needs ${requiredVersion}` : undefined) },
  ]);
  if (metrics) metrics.sources.ready = async () => (await readiness()).ready;

  const listener = createRequestListener({
    config,
    logger,
    host,
    provider: () => host.provider,
    passwords: accounts,
    accounts,
    mfa,
    throttle,
    progress: createSignInProgressStore(adapterFactory('SignInProgress'), keyring.encryption, config.ttl.interaction),
    setups: createSignInProgressStore(adapterFactory('AccountSetup'), keyring.encryption, ACCOUNT_SETUP_TTL),
    csrfKey: keyring.csrf,
    cookieKeys: keyring.cookies,
    readiness,
    metrics,
    events,
    recentActivity: (accountId) => recentAccountActivity(db, accountId, ACTIVITY_TYPES),
  });

  return {
    listener,
    db,
    accounts,
    metrics,
    redis: redis !== undefined,
    async close() {
      watcher.stop();
      clearInterval(keyTimer);
      clearTimeout(activationTimer);
      await stopRetention(); // before the database closes under it
      await auditStore.close(); // the queued events, before the database closes
      await Promise.all([redis?.quit().catch(() => {}), db.close().catch(() => {})]);
    },
  };
}
