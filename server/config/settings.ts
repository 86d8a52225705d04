// Every setting Latchkey reads from the environment, with its default and
// meaning: the one documented list. `.env.example` and the README table are
// checked against it by test/unit/config-docs.test.ts.
import { z } from 'zod';
import { parsePostgresUrl } from '../db/postgres-url.ts';
import { parseDuration } from './duration.ts';

const duration = z.string().transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const integer = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const url = (protocols: string[]) => z.string().refine((value) => {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

// host:port (a bracketed IPv6 address too), comma-separated: the seed lists of Sentinel and Cluster.
const hostPorts = z.string().refine(
  (value) => value.split(',').every((entry) => /^(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/i.test(entry.trim()) && Number(entry.trim().split(':').pop()) <= 65535),
  'must be comma-separated host:port pairs (e.g. redis-a:26379,redis-b:26379)',
);

const postgresUrl = z.string().superRefine((value, ctx) => {
  try {
    parsePostgresUrl(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export interface Setting {
  name: string;
  default?: string;
  /** The default when NODE_ENV=production, where it differs. */
  productionDefault?: string;
  description: string;
  schema: z.ZodType;
  /** May carry a password or key: never echoed in error messages. */
  secret?: boolean;
}

export const SETTINGS = [
  { name: 'NODE_ENV', default: 'development', description: '`production` enables the strict start-up checks', schema: z.enum(['development', 'production', 'test']) },
  { name: 'PORT', default: '3000', description: 'TCP port to listen on', schema: integer(0, 65535) },
  // A laptop's first `npm start` must not serve its whole network; a container or server in production listens on every interface.
  { name: 'HOST', default: '127.0.0.1', productionDefault: '0.0.0.0', description: 'Address to bind: loopback only in development, every interface in production', schema: z.string().min(1) },
  { name: 'ISSUER', description: 'Public issuer URL (default `http://localhost:$PORT`); https required in production unless localhost', schema: url(['http:', 'https:']).refine((v) => new URL(v).origin === v, 'must be an origin in lower case, without path, query or trailing / (e.g. https://id.example.com)') },
  { name: 'DATABASE_URL', secret: true, description: 'Postgres URL for clients, APIs, accounts and keys; unset = embedded PGlite in `DATA_DIR`. Several hosts as libpq writes them (`postgres://u@h1:5432,h2:5432/db?target_session_attrs=read-write`): each new connection takes the first that accepts (and, with `read-write`, is not read-only)', schema: postgresUrl },
  // The request path must never wait on a hung Postgres for long: a page answers 503 instead.
  { name: 'DATABASE_STATEMENT_TIMEOUT', default: '5s', description: 'Postgres cancels a server query running longer (`statement_timeout`), and the server gives up on a connection that has not answered a second later: the page or request answers 503 (migrations and the CLI are not limited)', schema: duration.pipe(z.number().max(300, 'must be at most 5m')) },
  { name: 'DATABASE_CONNECT_TIMEOUT', default: '3s', description: 'A new Postgres connection must be open within this long, else the request answers 503 (each host of a multi-host `DATABASE_URL` gets this long)', schema: duration.pipe(z.number().max(60, 'must be at most 1m')) },
  { name: 'REDIS_URL', secret: true, description: 'Redis URL for sessions, interactions, grants and tokens; unset = in-process store', schema: url(['redis:', 'rediss:']) },
  { name: 'REDIS_SENTINELS', description: 'Redis Sentinel: comma-separated `host:port` of the sentinels, which name the current primary (ioredis follows a failover); needs `REDIS_SENTINEL_NAME`, not `REDIS_CLUSTER_NODES`', schema: hostPorts },
  { name: 'REDIS_SENTINEL_NAME', description: 'The primary\'s name in the sentinels\' configuration (`sentinel monitor <name> ...`)', schema: z.string().min(1).max(128) },
  { name: 'REDIS_SENTINEL_PASSWORD', secret: true, description: 'Password of the sentinels themselves (their `requirepass`), if any', schema: z.string().min(1) },
  { name: 'REDIS_CLUSTER_NODES', description: 'Redis Cluster: comma-separated `host:port` of some of its nodes (the rest are discovered); not with `REDIS_SENTINELS`', schema: hostPorts },
  { name: 'REDIS_PASSWORD', secret: true, description: 'Password of the Redis data nodes, when `REDIS_URL` does not carry one (with `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES`, `REDIS_URL` may carry only credentials, `rediss:` and the database: its host is not used)', schema: z.string().min(1) },
  { name: 'REDIS_TLS', description: '`true`: TLS to every Redis node and sentinel (implied by a `rediss://` `REDIS_URL`; `false` with one is refused)', schema: boolean },
  { name: 'REDIS_KEY_PREFIX', default: 'latchkey:', description: 'Prefix of every Redis key (several deployments can share one Redis)', schema: z.string().min(1).max(64) },
  // A Redis that is down fails a request at once; this bounds one that hangs (a request makes a few commands in turn).
  { name: 'REDIS_COMMAND_TIMEOUT_MS', default: '500', description: 'A Redis command without an answer this many milliseconds fails, and its request answers 503 `temporarily_unavailable`', schema: integer(50, 60_000) },
  { name: 'DATA_DIR', default: './.latchkey', description: 'Embedded mode: PGlite database, generated master key and CLI socket', schema: z.string().min(1) },
  { name: 'LATCHKEY_SECRET', secret: true, description: 'Master key (>= 32 bytes, base64 or hex) encrypting signing keys and keying secret hashes; embedded mode generates one into `DATA_DIR`', schema: z.string().min(1) },
  { name: 'COOKIE_SECRETS', secret: true, description: 'Comma-separated cookie signing keys (each >= 32 characters), newest first (default: derived from `LATCHKEY_SECRET`)', schema: z.string().refine((v) => v.split(',').every((key) => key.trim().length >= 32), 'must be comma-separated keys of at least 32 characters each') },
  { name: 'PRODUCT_NAME', default: 'Latchkey', description: 'Name shown on hosted pages', schema: z.string().min(1).max(60) },
  { name: 'BRAND_COLOR', default: '#2f5bd3', description: 'Accent colour of hosted pages (`#rgb` or `#rrggbb`)', schema: z.string().regex(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i, 'must be a hex colour like #2f5bd3') },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino log level', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) },
  { name: 'ACCESS_LOG', default: 'true', description: 'One log line per request (method, route template, status, duration, client, request id); `false` when the proxy keeps the access log', schema: boolean },
  { name: 'TRUST_PROXY', default: 'false', description: 'Trust `X-Forwarded-*` headers from one TLS-terminating proxy: only their last entry counts (client IP, `https`, host); required with an https `ISSUER`', schema: boolean },
  // Node runs JavaScript on one core: several processes share the port to use more (node:cluster).
  { name: 'WORKERS', default: '1', description: 'Processes serving the port (`node:cluster`): a number, or `auto` for one per CPU core (`os.availableParallelism()`); above 1 needs `DATABASE_URL` and Redis. The primary restarts a crashed worker, forwards SIGTERM/SIGINT and serves the workers\' summed metrics', schema: z.literal('auto').or(integer(1, 256)) },
  { name: 'SHUTDOWN_TIMEOUT', default: '10s', description: 'On SIGTERM or SIGINT: readiness answers 503 and the listener closes at once, open requests finish (their answers close the connection), and the process exits within this long whatever the clients do', schema: duration.pipe(z.number().max(600, 'must be at most 10m')) },
  // Bodies here are a form or a token request: a client that takes longer is broken or hostile (slowloris).
  { name: 'REQUEST_TIMEOUT', default: '10s', description: 'A request\'s headers and body must arrive within this long, else 408 and the connection closes', schema: duration.pipe(z.number().max(300, 'must be at most 5m')) },
  { name: 'KEEP_ALIVE_TIMEOUT', default: '5s', description: 'An idle keep-alive connection is closed after this long; behind a proxy that reuses connections, set it above the proxy\'s idle timeout', schema: duration.pipe(z.number().max(600, 'must be at most 10m')) },
  { name: 'ACCESS_TOKEN_TTL', default: '5m', description: 'Default access token lifetime (an API\'s own `--ttl` wins)', schema: duration },
  { name: 'ID_TOKEN_TTL', default: '1h', description: 'ID token lifetime', schema: duration },
  { name: 'AUTHORIZATION_CODE_TTL', default: '60s', description: 'Authorization code lifetime (at most 60 s)', schema: duration.pipe(z.number().max(60, 'must be at most 60s')) },
  { name: 'REFRESH_TOKEN_IDLE_TTL', default: '14d', description: 'A refresh token unused this long expires', schema: duration },
  { name: 'REFRESH_TOKEN_ABSOLUTE_TTL', default: '30d', description: 'No refresh token outlives its first grant by more than this', schema: duration },
  { name: 'SESSION_IDLE_TTL', default: '1d', description: 'A sign-in session unused this long ends', schema: duration },
  { name: 'SESSION_ABSOLUTE_TTL', default: '14d', description: 'A sign-in session ends this long after sign-in, used or not', schema: duration },
  { name: 'MFA_POLICY', default: 'optional', description: '`required`: every sign-in needs a second factor (users without one enrol during sign-in); `optional`: only users with a factor, clients created with `--require-mfa` and users marked with `users require-mfa`', schema: z.enum(['optional', 'required']) },
  { name: 'TRUSTED_DEVICE_TTL', default: '30d', description: 'How long "Remember this device" skips the second factor on that browser; `off` removes the option', schema: z.literal('off').transform(() => 0).or(duration) },
  { name: 'ACCOUNT_REAUTH_WINDOW', default: '10m', description: 'How recent the last second factor (or password, without factors) must be to change factors or the password on `/account`', schema: duration },
  { name: 'INTERACTION_TTL', default: '15m', description: 'Time to finish a sign-in page flow', schema: duration },
  { name: 'ROTATED_SECRET_GRACE', default: '1h', description: 'Default grace period of `clients rotate-secret`', schema: duration },
  { name: 'ACCOUNT_CACHE_TTL', default: '5m', description: 'With Redis: refresh, userinfo and introspection use an account read from Postgres within this long (checked against its version in Redis on every use, so a disable, delete or sign-out everywhere applies at once on every node); `off` reads Postgres every time', schema: z.literal('off').transform(() => 0).or(duration) },
  { name: 'CACHE_REFRESH_INTERVAL', default: '1s', description: 'How often the server checks for admin changes (clients, APIs, keys)', schema: duration },
  // Metrics are for the operator's Prometheus, never the public: their own listener, loopback unless told otherwise.
  { name: 'METRICS_PORT', default: '9464', description: 'Port of the Prometheus metrics listener (`GET /metrics`, nothing else); `off` disables it and all instrumentation, `0` picks a free port', schema: z.literal('off').transform(() => undefined).or(integer(0, 65535)) },
  { name: 'METRICS_HOST', default: '127.0.0.1', description: 'Address the metrics listener binds (e.g. `0.0.0.0` in a container scraped from outside); it never shares the public listener', schema: z.string().min(1) },
  { name: 'SIGNING_KEY_ROTATION_INTERVAL', default: '90d', description: 'How long a signing key should sign before `keys rotate` replaces it: the `latchkey_signing_key_rotation_due_seconds` metric counts down to it and the shipped alert fires when it is overdue (nothing rotates automatically)', schema: duration },
  { name: 'AUDIT_RETENTION', default: '90d', description: 'How long audit events stay in Postgres (`audit_events`); older ones are deleted hourly, in batches (at least `1d`)', schema: duration.pipe(z.number().min(86400, 'must be at least 1d')) },
  { name: 'AUDIT_MACHINE_TOKENS', default: 'false', description: '`true`: every client_credentials token is an audit event too (otherwise only counted in metrics; refusals are always events)', schema: boolean },
  // Read by the OpenTelemetry SDK itself; listed here so a bad URL stops the start and the README table shows them.
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', description: 'OTLP/HTTP collector URL (e.g. `http://otel-collector:4318`): traces go to `$URL/v1/traces`; unset = no tracing, and no OpenTelemetry SDK or instrumentation is loaded', schema: url(['http:', 'https:']) },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', description: 'Full URL traces are posted to, instead of `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`; setting it alone also turns tracing on', schema: url(['http:', 'https:']) },
  { name: 'ARGON2_MEMORY_KIB', default: '19456', description: 'argon2id memory cost in KiB (OWASP minimum 19456)', schema: integer(19456, 4194304) },
  { name: 'ARGON2_TIME_COST', default: '2', description: 'argon2id iterations (minimum 2)', schema: integer(2, 100) },
  { name: 'ARGON2_PARALLELISM', default: '1', description: 'argon2id lanes (minimum 1)', schema: integer(1, 16) },
] as const satisfies readonly Setting[];

/** A setting's default for this NODE_ENV (unset or empty means development): the one place defaults are picked. */
export function defaultFor(setting: Setting, nodeEnv: string | undefined): string | undefined {
  return nodeEnv === 'production' && setting.productionDefault !== undefined ? setting.productionDefault : setting.default;
}
