// Every metric Latchkey exports, in one place: name, help text and labels.
// The README's metric table is checked against this file
// (test/unit/metrics-registry.test.ts), so the two cannot drift. Every label
// takes its values from a fixed set (route templates, grant types, error
// codes, registered client ids...), never from raw request input: an
// attacker must not be able to grow the series count.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CellCounter, CellHistogram } from './cells.ts';

export const METRIC_PREFIX = 'latchkey_';

// Seconds. An identity server answers in milliseconds; a slow store shows up
// in the top buckets.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Where the gauges read their values at scrape time (set by server/assemble.ts). */
export interface GaugeSources {
  /** The admin cache generation this server last read, and when (ms since epoch). */
  adminCache?: () => { generation: number; checkedAt: number } | undefined;
  /** When the active signing key is planned to be rotated (ms since epoch). */
  keyRotationDue?: () => number | undefined;
  /** Whether /healthz/ready would answer 200 now (asked at each scrape). */
  ready?: () => Promise<boolean>;
}

export class LatchkeyMetrics {
  readonly registry = new Registry();
  readonly sources: GaugeSources = {};

  // The token path's metrics count through cells (cells.ts): an addition a request.
  readonly httpRequests = new CellCounter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests answered, by route template (never the raw path), method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new CellHistogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by route template and method',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokensIssued = new CellCounter({
    name: 'latchkey_tokens_issued_total',
    help: 'Successful token endpoint answers, by grant type and (registered) client id',
    labelNames: ['grant_type', 'client_id'] as const,
    registers: [this.registry],
  });

  readonly tokenRequestsRefused = new Counter({
    name: 'latchkey_token_requests_refused_total',
    help: 'Token endpoint refusals, by grant type and the OAuth error code answered (invalid_client, invalid_grant, ...)',
    labelNames: ['grant_type', 'error'] as const,
    registers: [this.registry],
  });

  readonly introspections = new Counter({
    name: 'latchkey_introspections_total',
    help: 'Token introspection answers, by outcome: active, inactive, or the OAuth error code of a refusal',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly revocations = new Counter({
    name: 'latchkey_revocations_total',
    help: 'Token revocation answers, by outcome: revoked (RFC 7009 answers 200 for unknown tokens too), or the OAuth error code of a refusal',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly signIns = new Counter({
    name: 'latchkey_sign_ins_total',
    help: 'Sign-in steps, by outcome (success, bad_credentials, throttled, second_factor_passed, second_factor_refused, account_disabled, other_failure) and method',
    labelNames: ['outcome', 'method'] as const,
    registers: [this.registry],
  });

  readonly factorChanges = new Counter({
    name: 'latchkey_factor_changes_total',
    help: 'Second factors enrolled or removed, by factor kind (totp, webauthn, passkey, recovery_codes) and change (added, removed)',
    labelNames: ['kind', 'change'] as const,
    registers: [this.registry],
  });

  readonly throttleBlocks = new Counter({
    name: 'latchkey_throttle_blocks_total',
    help: 'Sign-in throttle blocks started, by limit (ip, accountIp, account, secondFactor)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly refreshTokenReuse = new Counter({
    name: 'latchkey_refresh_token_reuse_total',
    help: 'Refresh tokens presented again after rotation (the grant is revoked): a stolen token or a broken client',
    registers: [this.registry],
  });

  readonly postgresDuration = new Histogram({
    name: 'latchkey_postgres_query_duration_seconds',
    help: 'Postgres calls, by operation (query: one statement; transaction: BEGIN to COMMIT)',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly postgresErrors = new Counter({
    name: 'latchkey_postgres_errors_total',
    help: 'Postgres calls that failed (connection lost, timeout, constraint...), by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly redisDuration = new CellHistogram({
    name: 'latchkey_redis_command_duration_seconds',
    help: 'Redis commands, from sending to the reply, by command',
    labelNames: ['command'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly redisErrors = new Counter({
    name: 'latchkey_redis_errors_total',
    help: 'Redis commands that failed (error reply, connection lost, retries exhausted), by command',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });

  readonly adminCacheGeneration = new Gauge({
    name: 'latchkey_admin_cache_generation',
    help: 'The admin change counter (cache_generation) this server last read; every server of a deployment should show the same',
    registers: [this.registry],
    aggregator: 'min', // WORKERS: the stalest worker's
    collect: () => {
      const state = this.sources.adminCache?.();
      if (state) this.adminCacheGeneration.set(state.generation);
    },
  });

  readonly adminCacheAge = new Gauge({
    name: 'latchkey_admin_cache_age_seconds',
    help: 'Seconds since this server last read the admin change counter: how stale its clients, APIs and keys may be (normally below CACHE_REFRESH_INTERVAL)',
    registers: [this.registry],
    aggregator: 'max',
    collect: () => {
      const state = this.sources.adminCache?.();
      if (state) this.adminCacheAge.set((Date.now() - state.checkedAt) / 1000);
    },
  });

  readonly keyRotationDue = new Gauge({
    name: 'latchkey_signing_key_rotation_due_seconds',
    help: 'Seconds until the active signing key is due for rotation (SIGNING_KEY_ROTATION_INTERVAL after it started signing); negative when overdue',
    registers: [this.registry],
    aggregator: 'min',
    collect: () => {
      const due = this.sources.keyRotationDue?.();
      if (due !== undefined) this.keyRotationDue.set((due - Date.now()) / 1000);
    },
  });

  readonly ready = new Gauge({
    name: 'latchkey_ready',
    help: '1 when the readiness check (/healthz/ready: stores answer, keys loaded, migrations applied, not shutting down) passes at scrape time, else 0 (with WORKERS: 1 only when every worker passes)',
    registers: [this.registry],
    aggregator: 'min',
    collect: async () => {
      const ready = this.sources.ready;
      if (ready) this.ready.set((await ready()) ? 1 : 0);
    },
  });

  // Each process counts itself: the primary's sum (WORKERS) is the number of workers that answered the scrape.
  readonly workers = new Gauge({
    name: 'latchkey_workers',
    help: 'Processes serving requests: 1, or with WORKERS the workers that answered this scrape (the primary sums them)',
    registers: [this.registry],
    aggregator: 'sum',
  });

  constructor(options: { defaults?: boolean } = {}) {
    // Node process defaults (CPU, heap, GC, event loop lag, handles) as
    // latchkey_process_* and latchkey_nodejs_*.
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    // The alerts compare rates of these; a series must exist before its first
    // event, or the first burst has no baseline to be compared with.
    this.refreshTokenReuse.inc(0);
    this.ready.set(1);
    this.workers.set(1);
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
