// Environment -> one typed, frozen Config, validated once at start.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { LOOPBACK_HOSTS } from '../protocol/constants.ts';
import { redisTopology, type RedisTopology } from './redis-topology.ts';
import { readSecretFiles, fileVariable } from './secret-files.ts';
import { defaultFor, SETTINGS, type Setting } from './settings.ts';

type Settings = typeof SETTINGS;
type Parsed<S> = S extends { schema: { _zod: { output: infer O } } } ? O : never;
type Raw = { [S in Settings[number] as S['name']]: S extends { default: string } ? Parsed<S> : Parsed<S> | undefined };

export interface Config {
  env: 'development' | 'production' | 'test';
  production: boolean;
  port: number;
  host: string;
  issuer: string;
  /** The issuer is https (Latchkey then sits behind a TLS-terminating proxy). */
  https: boolean;
  databaseUrl?: string;
  /** Postgres statement and connect timeouts, ms. */
  databaseTimeouts: { statementMs: number; connectMs: number };
  /** How long an account read from Postgres serves the token path (0: not cached), ms. */
  accountCacheTtlMs: number;
  redisUrl?: string;
  /** One Redis, Sentinel or Cluster (./redis-topology.ts); undefined = the in-process store. */
  redis?: RedisTopology;
  redisKeyPrefix: string;
  redisCommandTimeoutMs: number;
  dataDir: string;
  secret?: string;
  cookieSecrets?: string[];
  productName: string;
  brandColor: string;
  logLevel: string;
  trustProxy: boolean;
  /** One info line per request (server/http/access-log.ts). */
  accessLog: boolean;
  /** OTLP traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT set; the SDK reads its own settings). */
  tracing: boolean;
  ttl: {
    accessToken: number;
    idToken: number;
    authorizationCode: number;
    refreshIdle: number;
    refreshAbsolute: number;
    sessionIdle: number;
    sessionAbsolute: number;
    interaction: number;
    rotatedSecretGrace: number;
  };
  cacheRefreshMs: number;
  /** WORKERS, resolved (`auto`: one per core): above 1, server/main.ts forks that many processes. */
  workers: number;
  http: {
    /** SHUTDOWN_TIMEOUT: from the signal to the exit, at most. */
    shutdownTimeoutMs: number;
    /** REQUEST_TIMEOUT: headers and body must arrive within it. */
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
  };
  /** The metrics listener; undefined when METRICS_PORT=off (no instrumentation at all). */
  metrics?: { port: number; host: string };
  /** Seconds a signing key should sign before it is rotated (the rotation-due metric). */
  signingKeyRotationInterval: number;
  mfa: {
    policy: 'optional' | 'required';
    /** Seconds a remembered device skips the second factor; 0 = the option is off. */
    trustedDeviceTtl: number;
    /** Seconds after a sign-in factor during which /account changes need no new one. */
    reauthWindow: number;
  };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  audit: {
    /** Seconds an audit event stays in Postgres. */
    retention: number;
    /** Record each client_credentials token as an event (off: metrics count them). */
    machineTokens: boolean;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses and validates the environment. Throws ConfigError listing every bad value. */
export function loadConfig(processEnv: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {};
  const { env, fromFile, problems } = readSecretFiles(processEnv, SETTINGS);
  for (const setting of SETTINGS as readonly Setting[]) {
    const value = env[setting.name] === '' ? undefined : env[setting.name];
    const input = value ?? defaultFor(setting, env.NODE_ENV);
    if (input === undefined) continue;
    const result = setting.schema.safeParse(input);
    if (result.success) raw[setting.name] = result.data;
    else {
      const got = !setting.secret ? `got "${input}"` : fromFile.has(setting.name) ? `value hidden, read from ${fileVariable(setting.name)}` : 'value hidden';
      problems.push(`${setting.name} ${result.error.issues[0]?.message ?? 'is invalid'} (${got})`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  const r = raw as Raw;
  let redis: RedisTopology | undefined;
  try {
    redis = redisTopology(r);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }

  const config: Config = {
    env: r.NODE_ENV,
    production: r.NODE_ENV === 'production',
    port: r.PORT,
    host: r.HOST,
    issuer: r.ISSUER ?? `http://localhost:${r.PORT}`,
    https: r.ISSUER !== undefined && new URL(r.ISSUER).protocol === 'https:',
    databaseUrl: r.DATABASE_URL,
    databaseTimeouts: { statementMs: r.DATABASE_STATEMENT_TIMEOUT * 1000, connectMs: r.DATABASE_CONNECT_TIMEOUT * 1000 },
    accountCacheTtlMs: r.ACCOUNT_CACHE_TTL * 1000,
    redisUrl: r.REDIS_URL,
    redis,
    redisKeyPrefix: r.REDIS_KEY_PREFIX,
    redisCommandTimeoutMs: r.REDIS_COMMAND_TIMEOUT_MS,
    dataDir: resolve(r.DATA_DIR),
    secret: r.LATCHKEY_SECRET,
    cookieSecrets: r.COOKIE_SECRETS?.split(',').map((s) => s.trim()).filter(Boolean),
    productName: r.PRODUCT_NAME,
    brandColor: r.BRAND_COLOR,
    logLevel: r.LOG_LEVEL,
    trustProxy: r.TRUST_PROXY,
    accessLog: r.ACCESS_LOG,
    tracing: (r.OTEL_EXPORTER_OTLP_ENDPOINT ?? r.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined,
    ttl: {
      accessToken: r.ACCESS_TOKEN_TTL,
      idToken: r.ID_TOKEN_TTL,
      authorizationCode: r.AUTHORIZATION_CODE_TTL,
      refreshIdle: r.REFRESH_TOKEN_IDLE_TTL,
      refreshAbsolute: r.REFRESH_TOKEN_ABSOLUTE_TTL,
      sessionIdle: r.SESSION_IDLE_TTL,
      sessionAbsolute: r.SESSION_ABSOLUTE_TTL,
      interaction: r.INTERACTION_TTL,
      rotatedSecretGrace: r.ROTATED_SECRET_GRACE,
    },
    cacheRefreshMs: r.CACHE_REFRESH_INTERVAL * 1000,
    workers: r.WORKERS === 'auto' ? availableParallelism() : r.WORKERS,
    http: {
      shutdownTimeoutMs: r.SHUTDOWN_TIMEOUT * 1000,
      requestTimeoutMs: r.REQUEST_TIMEOUT * 1000,
      keepAliveTimeoutMs: r.KEEP_ALIVE_TIMEOUT * 1000,
    },
    metrics: r.METRICS_PORT === undefined ? undefined : { port: r.METRICS_PORT, host: r.METRICS_HOST },
    signingKeyRotationInterval: r.SIGNING_KEY_ROTATION_INTERVAL,
    mfa: { policy: r.MFA_POLICY, trustedDeviceTtl: r.TRUSTED_DEVICE_TTL, reauthWindow: r.ACCOUNT_REAUTH_WINDOW },
    argon2: { memoryCost: r.ARGON2_MEMORY_KIB, timeCost: r.ARGON2_TIME_COST, parallelism: r.ARGON2_PARALLELISM },
    audit: { retention: r.AUDIT_RETENTION, machineTokens: r.AUDIT_MACHINE_TOKENS },
  };
  if (config.ttl.refreshIdle > config.ttl.refreshAbsolute) {
    throw new ConfigError('Invalid configuration: REFRESH_TOKEN_IDLE_TTL must not exceed REFRESH_TOKEN_ABSOLUTE_TTL');
  }
  if (config.ttl.sessionIdle > config.ttl.sessionAbsolute) {
    throw new ConfigError('Invalid configuration: SESSION_IDLE_TTL must not exceed SESSION_ABSOLUTE_TTL');
  }
  // Workers share nothing in memory: PGlite (DATA_DIR) and the in-process store would each be one worker's own.
  if (r.WORKERS !== 1 && (!config.databaseUrl || !config.redis)) {
    throw new ConfigError(`Invalid configuration: WORKERS=${r.WORKERS} needs DATABASE_URL and Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES; the embedded database and the in-process store live inside one process); unset WORKERS`);
  }
  // Latchkey speaks plain http behind a TLS-terminating proxy, so an https
  // issuer means there is one; without trusting its X-Forwarded-Proto every
  // request would look like plain http (Secure cookies fail, URLs say http).
  if (config.https && !config.trustProxy) {
    throw new ConfigError('Invalid configuration: TRUST_PROXY=true is required with an https ISSUER (Latchkey runs behind a TLS-terminating proxy)');
  }
  if (config.production) assertProductionSafe(config);
  return Object.freeze(config);
}

/** Production refuses unsafe settings with a one-line reason. */
function assertProductionSafe(config: Config): void {
  const reasons: string[] = [];
  if (!config.secret) reasons.push('LATCHKEY_SECRET is required');
  if (!config.databaseUrl) reasons.push('DATABASE_URL is required (the embedded database is for development)');
  if (!config.redis) reasons.push('REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is required (the in-process store loses sessions and tokens on restart)');
  const issuer = new URL(config.issuer);
  const loopback = LOOPBACK_HOSTS.has(issuer.hostname);
  if (issuer.protocol !== 'https:' && !loopback) reasons.push(`ISSUER must use https (got ${config.issuer})`);
  if (reasons.length) throw new ConfigError(`Refusing to start in production: ${reasons.join('; ')}`);
}
