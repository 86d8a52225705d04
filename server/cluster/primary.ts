// The node:cluster primary (WORKERS above 1). It serves no request itself:
// - forks the workers, each running server/start.ts on the shared port;
// - replaces a worker that exits on its own, with a back-off for workers that
//   crash at start and, after too many of those, gives up (restart-policy.ts);
// - forwards SIGTERM/SIGINT and exits once every worker has drained;
// - owns the metrics port (N workers cannot all bind it): prom-client's
//   AggregatorRegistry asks each worker for its registry over the cluster
//   channel and merges them (counters and histograms summed).
// What runs once and what per worker: migrations run in every worker under
// their advisory lock (server/db/migrate.ts: the first applies them, the
// others find them applied); the admin-change watcher, the signing-key
// refresh and the hourly audit prune run in each worker, and are idempotent.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config/index.ts';
import { createLogger } from '../logging/logger.ts';
import { createMetricsServer, listenMetrics } from '../metrics/metrics-server.ts';
import type { WorkerOptions } from '../start.ts';
import { RestartPolicy, RESTART_POLICY } from './restart-policy.ts';

// The primary passes each worker its WorkerOptions (JSON) in this variable.
const WORKER_ENV = 'LATCHKEY_WORKER_OPTIONS';

/** In a worker: what the primary told it. */
export function workerOptions(): WorkerOptions {
  return JSON.parse(process.env[WORKER_ENV] ?? '{"banner":true}') as WorkerOptions;
}

/** Runs the primary until SIGTERM/SIGINT (exit 0) or until workers cannot start (exit 1). */
export async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const aggregator = new AggregatorRegistry();
  const metricsServer = config.metrics && createMetricsServer(
    { exposition: () => aggregator.clusterMetrics() },
    (error) => logger.error({ err: error }, 'collecting metrics from the workers failed'),
  );
  // Before any fork: a metrics port already taken fails the start, as with one process.
  const metricsPort = metricsServer && config.metrics ? await listenMetrics(metricsServer, config.metrics.port, config.metrics.host) : undefined;

  const policy = new RestartPolicy();
  const forkedAt = new Map<Worker, number>();
  const restarts = new Set<NodeJS.Timeout>();
  let listened = false;
  let stopping = false;
  let exitCode = 0;
  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  const fork = (banner: boolean) => {
    const options: WorkerOptions = { banner, metricsPort };
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(options) });
    forkedAt.set(worker, Date.now());
    worker.once('listening', () => { listened = true; });
  };

  const finish = () => {
    metricsServer?.closeAllConnections();
    metricsServer?.close();
    logger.info({ code: exitCode }, 'stopped');
    process.exit(exitCode);
  };

  const shutdown = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    for (const timer of restarts) clearTimeout(timer);
    logger.info({ reason, workers: live().length }, 'shutting down: the workers finish their open requests');
    for (const worker of live()) worker.process.kill('SIGTERM');
    // Each worker exits within its SHUTDOWN_TIMEOUT; this is the backstop for one that hangs.
    setTimeout(() => {
      for (const worker of live()) worker.process.kill('SIGKILL');
      finish();
    }, config.http.shutdownTimeoutMs + 2_000).unref();
    if (live().length === 0) finish();
  };

  cluster.on('exit', (worker, code, signal) => {
    const uptimeMs = Date.now() - (forkedAt.get(worker) ?? 0);
    forkedAt.delete(worker);
    const pid = worker.process.pid;
    if (stopping) {
      if (live().length === 0) finish();
      return;
    }
    // No worker ever listened: the start failed (the worker printed why), as it would with one process.
    if (!listened) {
      logger.error({ worker_pid: pid, code, signal }, 'a worker could not start; stopping');
      shutdown('start failed', 1);
      return;
    }
    let delay = policy.afterExit(uptimeMs);
    if (delay === undefined) {
      // Workers still serving (a Postgres outage refuses new ones while the
      // others serve tokens from their caches) must not be stopped for it:
      // keep trying at the slowest pace. Only with none left is it hopeless.
      if (live().length === 0) {
        logger.error({ worker_pid: pid, code, signal }, `workers exited within ${RESTART_POLICY.quickMs / 1000} s of their start ${policy.quickCrashes} times in a row; giving up`);
        shutdown('workers keep crashing', 1);
        return;
      }
      delay = RESTART_POLICY.maxDelayMs;
    }
    logger.warn({ worker_pid: pid, code, signal, uptime_ms: uptimeMs, restart_in_ms: delay }, 'a worker exited; starting a replacement');
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping) fork(false);
    }, delay);
    restarts.add(timer);
  });

  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  for (let i = 0; i < config.workers; i++) fork(i === 0);
}
