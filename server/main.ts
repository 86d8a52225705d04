// Process entry: settings, then tracing when an OTLP endpoint is set, then
// the server (server/start.ts). The server's modules are imported only once
// tracing started, because OpenTelemetry instruments pg, ioredis and http as
// they load; without an endpoint none of them is loaded. With WORKERS above
// 1 this process is the node:cluster primary (server/cluster/primary.ts),
// which runs this file again in each worker.
import cluster from 'node:cluster';
import { loadEnvFile } from './config/env-file.ts';
import { ConfigError, loadConfig, type Config } from './config/index.ts';
import { WrongMasterKeyError, wrongMasterKeyMessage } from './crypto/master-key.ts';
import { oneLine } from './errors.ts';

/** One line, no stack, for configuration, connection and master key problems. */
function startFailure(error: unknown, config: Config | undefined): string {
  if (error instanceof ConfigError) return error.message;
  const reason = error instanceof WrongMasterKeyError && config ? wrongMasterKeyMessage(config, error.what) : oneLine(error);
  return `Latchkey could not start: ${reason}`;
}

let config: Config | undefined;
try {
  const envFile = loadEnvFile();
  config = loadConfig();
  if (config.workers > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./cluster/primary.ts');
    await runPrimary(config);
  } else {
    const tracing = config.tracing ? (await import('./tracing/start-tracing.ts')).startTracing() : undefined;
    const worker = cluster.isWorker ? (await import('./cluster/primary.ts')).workerOptions() : undefined;
    const { start } = await import('./start.ts');
    await start(config, { envFile: worker && !worker.banner ? undefined : envFile, beforeExit: tracing?.shutdown, worker });
  }
} catch (error) {
  console.error(startFailure(error, config));
  process.exit(1);
}
