// Process entry: settings, then the server (server/start.ts), imported once
// the settings are read.
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
  const { start } = await import('./start.ts');
  await start(config, envFile);
} catch (error) {
  console.error(startFailure(error, config));
  process.exit(1);
}
