// Process entry: config -> the assembled server (assemble.ts) -> HTTP server,
// the start-up banner, and a clean shutdown on SIGINT/SIGTERM.
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { assembleServer } from './assemble.ts';
import { loadEnvFile } from './config/env-file.ts';
import { ConfigError, loadConfig, type Config } from './config/index.ts';
import { WrongMasterKeyError, wrongMasterKeyMessage } from './crypto/master-key.ts';
import { oneLine } from './errors.ts';
import { VERSION } from './version.ts';

async function start(config: Config, envFile: string | undefined) {
  const logger = pino({ level: config.logLevel });
  const assembled = await assembleServer(config, logger);
  const server: Server = await new Promise((resolve, reject) => {
    const listening = createServer(assembled.listener).listen(config.port, config.host, () => resolve(listening));
    listening.once('error', reject);
  });

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const embedded = !config.databaseUrl;
  console.log([
    `Latchkey is running: ${config.issuer} (version ${VERSION}, listening on ${config.host}:${port}, ${config.env} mode)`,
    `  discovery   ${config.issuer}/.well-known/openid-configuration`,
    `  database    ${embedded ? 'embedded PGlite (no DATABASE_URL)' : 'Postgres (DATABASE_URL)'}`,
    `  sessions    ${config.redisUrl ? 'Redis (REDIS_URL)' : 'in-process store, lost on restart (no REDIS_URL)'}`,
    ...(embedded ? [`  data folder ${config.dataDir}`] : []),
    ...(envFile ? [`  settings    ${envFile} (the environment wins over it)`] : []),
    `Next, in another terminal: npx latchkey apis create --identifier https://orders.internal --scope "orders:read orders:write"`,
  ].join('\n'));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.closeIdleConnections();
    await new Promise((resolve) => server.close(resolve));
    await assembled.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

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
  await start(config, envFile);
} catch (error) {
  console.error(startFailure(error, config));
  process.exit(1);
}
