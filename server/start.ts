// The server: config -> the assembled server (assemble.ts) -> the HTTP and
// metrics listeners, the start-up banner, and a graceful shutdown on
// SIGINT/SIGTERM within SHUTDOWN_TIMEOUT. Started by server/main.ts (the
// process entry), after tracing when it is on. With WORKERS, each worker runs
// this (server/cluster/primary.ts is the primary): the port is shared, and
// the metrics listener is the primary's, which asks the workers' registries.
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import { describeRedis } from './adapters/redis-topology.ts';
import { assembleServer } from './assemble.ts';
import type { Config } from './config/index.ts';
import { trackConnections } from './http/graceful-shutdown.ts';
import { createLogger } from './logging/logger.ts';
import { createMetricsServer, listenMetrics } from './metrics/metrics-server.ts';
import { VERSION } from './version.ts';

// Node checks request and header timeouts this often (default 30 s, which would let a slow body live 40 s).
const CONNECTIONS_CHECK_MS = 1_000;

export interface StartOptions {
  /** The settings file read, if any (named in the start-up banner). */
  envFile?: string;
  /** Runs before the process exits on SIGINT/SIGTERM (tracing sends its last spans). */
  beforeExit?: () => Promise<void>;
  /** Run as a node:cluster worker (WORKERS above 1); see server/cluster/primary.ts. */
  worker?: WorkerOptions;
}

export interface WorkerOptions {
  /** The primary's metrics port, for the banner. */
  metricsPort?: number;
  /** Only the first worker prints the start-up banner. */
  banner: boolean;
}

export async function start(config: Config, options: StartOptions = {}) {
  const { envFile, worker } = options;
  const logger = createLogger(config.logLevel);
  // The public server exists before its request listener: readiness reads whether it is draining.
  const http = createServer({
    requestTimeout: config.http.requestTimeoutMs,
    headersTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  });
  const connections = trackConnections(http);
  const assembled = await assembleServer(config, logger, { draining: () => connections.draining });
  const { metrics } = assembled;
  // Before the public listener: a metrics port already taken fails the start.
  const metricsServer = metrics && !worker ? createMetricsServer(metrics, (error) => logger.error({ err: error }, 'collecting metrics failed')) : undefined;
  // The primary's AggregatorRegistry asks each worker for this registry over the cluster channel;
  // a worker answers once an AggregatorRegistry was constructed in it (its constructor adds the listener).
  if (worker && metrics) {
    void new AggregatorRegistry();
    AggregatorRegistry.setRegistries([metrics.registry]);
  }
  let metricsPort = worker?.metricsPort;
  let server: Server;
  try {
    if (metricsServer && config.metrics) metricsPort = await listenMetrics(metricsServer, config.metrics.port, config.metrics.host);
    http.on('request', assembled.listener);
    server = await new Promise((resolve, reject) => {
      const listening = http.listen(config.port, config.host, () => resolve(listening));
      listening.once('error', reject);
    });
  } catch (error) {
    // A port already taken: the stores (and the audit queue) close before the one-line refusal.
    metricsServer?.close();
    await assembled.close();
    throw error;
  }

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const embedded = !config.databaseUrl;
  if (worker && !worker.banner) logger.info({ port }, 'worker listening');
  else console.log([
    `Latchkey is running: ${config.issuer} (version ${VERSION}, listening on ${config.host}:${port}, ${config.env} mode)`,
    `  discovery   ${config.issuer}/.well-known/openid-configuration`,
    `  database    ${embedded ? 'embedded PGlite (no DATABASE_URL)' : 'Postgres (DATABASE_URL)'}`,
    `  sessions    ${config.redis ? `Redis, ${describeRedis(config.redis)}` : 'in-process store, lost on restart (no REDIS_URL)'}`,
    `  metrics     ${config.metrics ? `http://${config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host}:${metricsPort}/metrics (Prometheus, not public)` : 'off (METRICS_PORT=off)'}`,
    ...(worker ? [`  workers     ${config.workers} processes (WORKERS), sharing the port; the primary restarts a crashed one`] : []),
    ...(embedded ? [`  data folder ${config.dataDir}`] : []),
    ...(envFile ? [`  settings    ${envFile} (the environment wins over it)`] : []),
    `Next, in another terminal: npx latchkey apis create --identifier https://orders.internal --scope "orders:read orders:write"`,
  ].join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const timeout = config.http.shutdownTimeoutMs;
    const started = Date.now();
    // Whatever hangs (a client, a store), the process is gone by the deadline.
    setTimeout(() => {
      logger.warn({ signal }, 'closing the stores did not finish within SHUTDOWN_TIMEOUT; exiting');
      process.exit(0);
    }, timeout);
    logger.info({ signal, connections: connections.connections }, 'shutting down: not ready, listener closed, finishing open requests');
    // The stores get the last second (a quarter of a short timeout) to close.
    const { cut } = await connections.drain(timeout - Math.min(1_000, timeout / 4));
    if (cut) logger.warn({ cut }, 'connections still open at SHUTDOWN_TIMEOUT were cut');
    metricsServer?.closeAllConnections();
    metricsServer?.close();
    await assembled.close();
    await options.beforeExit?.().catch(() => {});
    logger.info({ signal, ms: Date.now() - started }, 'stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
