// `.env` in the working folder, when there is one, is read into process.env by
// Node itself (process.loadEnvFile, no dotenv package). A variable the real
// environment sets, even to an empty value, wins over the file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const ENV_FILE = '.env';

/** Loads `.env` if present; returns its absolute path, or undefined when there is none. */
export function loadEnvFile(path = ENV_FILE): string | undefined {
  if (!existsSync(path)) return undefined;
  process.loadEnvFile(path);
  return resolve(path);
}
