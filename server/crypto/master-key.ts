// The master key (LATCHKEY_SECRET) and the purpose-bound keys derived from it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/index.ts';
import { ConfigError } from '../config/index.ts';
import { deriveKey } from './secrets.ts';

export interface Keyring {
  /**
   * Encrypts (AES-GCM) what must be read back: private signing keys, TOTP
   * secrets, and the secrets an unfinished sign-in or /account set-up holds
   * (server/progress/).
   */
  encryption: Buffer;
  /**
   * Keys the HMAC stored instead of a secret that is only ever compared:
   * client secrets, recovery codes and remembered-device tokens (each store
   * prefixes what it hashes, so the hashes never collide).
   */
  secretHash: Buffer;
  /**
   * Sign cookies: oidc-provider's (session, interaction) and Latchkey's own
   * signed ones (the known-browser cookie, the account page's state cookie).
   * COOKIE_SECRETS replaces the derived one.
   */
  cookies: string[];
  /** Keys the CSRF tokens of the sign-in and account forms (HMAC of the interaction or session). */
  csrf: Buffer;
  /** Keys the hashes of emails in sign-in throttle keys and the known-browser cookie. */
  throttle: Buffer;
}

export const MASTER_KEY_FILE = 'master.key';

function decodeSecret(value: string): Buffer {
  const trimmed = value.trim();
  const bytes = /^[0-9a-f]+$/i.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (bytes.length < 32) throw new ConfigError('Invalid configuration: LATCHKEY_SECRET must hold at least 32 bytes (base64 or hex); generate one with `openssl rand -base64 32`');
  return bytes;
}

/**
 * LATCHKEY_SECRET when set; otherwise (development only, enforced by config)
 * a key generated once into DATA_DIR/master.key with 0600 permissions.
 */
export function loadMasterKey(config: Config): Buffer {
  if (config.secret) return decodeSecret(config.secret);
  const file = join(config.dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return decodeSecret(readFileSync(file, 'utf8'));
}

export function buildKeyring(master: Buffer, config: Config): Keyring {
  return {
    encryption: deriveKey(master, 'encryption'),
    secretHash: deriveKey(master, 'client-secret-hash'),
    cookies: config.cookieSecrets ?? [deriveKey(master, 'cookies').toString('base64url')],
    csrf: deriveKey(master, 'csrf'),
    throttle: deriveKey(master, 'throttle'),
  };
}

/** Data that does not open with this process's master key. */
export class WrongMasterKeyError extends Error {
  override name = 'WrongMasterKeyError';
  /** What could not be read, e.g. "signing keys". */
  readonly what: string;
  constructor(what: string) {
    super(`the ${what} were encrypted with another master key`);
    this.what = what;
  }
}

/** One line: which key this process used, where the data lives, and what to set. */
export function wrongMasterKeyMessage(config: Config, what: string): string {
  const where = config.databaseUrl ? 'DATABASE_URL' : `the embedded database in ${config.dataDir}`;
  if (config.secret) return `the ${what} in ${where} were encrypted with another key than this LATCHKEY_SECRET: set the LATCHKEY_SECRET they were made with`;
  // A master.key file's content is itself a valid LATCHKEY_SECRET.
  return `the ${what} in ${where} were encrypted with another key than DATA_DIR's master.key (${join(config.dataDir, MASTER_KEY_FILE)}): `
    + 'set the LATCHKEY_SECRET they were made with (or the DATA_DIR whose master.key made them)';
}
