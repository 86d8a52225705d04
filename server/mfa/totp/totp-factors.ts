// Authenticator apps (RFC 6238 TOTP): SHA-1, 6 digits, 30 s steps, ±1 step
// of clock drift, each step usable once per account (across all its TOTP
// factors, so two factors with one secret cannot replay each other's codes).
// Confirmations and verifications of one account run under its row lock. Secrets are encrypted at
// rest, bound to their row by the AAD so an envelope cannot be moved to another.
import { randomUUID } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';
import type { Database, Queryable } from '../../db/database.ts';
import { isUuid } from '../../db/text.ts';
import { decrypt, encrypt, safeEqual } from '../../crypto/secrets.ts';
import { factorName } from '../factor-name.ts';
import type { Factor, TotpFactors, TotpSetup } from '../types.ts';
import { claimTotpStep, insertTotpFactor, listTotpFactors, lockAccountForTotp, totpFactor } from './totp-queries.ts';

export const TOTP_PERIOD = 30;
/** Seconds either side of now: exactly one step back and one ahead. */
const EPOCH_TOLERANCE = 30;
export const DEFAULT_TOTP_NAME = 'Authenticator app';

const aad = (factorId: string) => `totp:${factorId}`;

/** Six digits, spaces ignored ("123 456"); anything else is undefined. */
export function normalizeTotpCode(code: unknown): string | undefined {
  if (typeof code !== 'string' || code.length > 20) return undefined;
  const digits = code.replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

// otplib's default secret: 20 random bytes, 32 base32 characters.
const isBase32Secret = (secret: string) => /^[A-Z2-7]{16,128}$/.test(secret);

const isDatabase = (db: Queryable): db is Database => typeof (db as Database).transaction === 'function';

export interface TotpFactorsOptions {
  /** A Database (each call opens its own transaction) or a transaction the caller holds. */
  db: Queryable;
  encryptionKey: Buffer;
  /** The issuer authenticator apps show beside the code. */
  productName: string;
  /** Clock in epoch milliseconds (tests move it). */
  now?: () => number;
}

export function createTotpFactors({ db, encryptionKey, productName, now = Date.now }: TotpFactorsOptions): TotpFactors {
  const inTransaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => (isDatabase(db) ? db.transaction(fn) : fn(db));
  const secretOf = (record: { id: string; secretEncrypted: string }) => decrypt(encryptionKey, record.secretEncrypted, aad(record.id));

  /** The step `token` is valid for near now, refusing steps <= afterStep. */
  async function matchingStep(secret: string, token: string, afterStep: number | null): Promise<number | undefined> {
    const epoch = Math.floor(now() / 1000);
    const current = Math.floor(epoch / TOTP_PERIOD);
    // Every step in the window is used already (otplib also throws on such an afterTimeStep).
    if (afterStep !== null && afterStep >= current + 1) return undefined;
    const result = await verify({
      secret, token, epoch, epochTolerance: EPOCH_TOLERANCE,
      algorithm: 'sha1', digits: 6, period: TOTP_PERIOD,
      ...(afterStep !== null && afterStep >= 0 ? { afterTimeStep: afterStep } : {}),
    });
    return result.valid ? (result as { timeStep: number }).timeStep : undefined;
  }

  return {
    async setup(accountEmail: string, given?: string): Promise<TotpSetup> {
      // The pending secret again (same URI, same QR code) after a wrong code; a fresh one otherwise.
      const secret = typeof given === 'string' && isBase32Secret(given) ? given : generateSecret();
      const uri = generateURI({ issuer: productName, label: accountEmail, secret, algorithm: 'sha1', digits: 6, period: TOTP_PERIOD });
      const qrSvg = await QRCode.toString(uri, { type: 'svg', margin: 1 });
      return { secret, uri, qrSvg };
    },

    async confirm(accountId, name, secret, code): Promise<Factor | undefined> {
      const token = normalizeTotpCode(code);
      if (!token || typeof secret !== 'string' || !isBase32Secret(secret) || !isUuid(accountId)) return undefined;
      const label = factorName(name, DEFAULT_TOTP_NAME);
      const step = await matchingStep(secret, token, null);
      if (step === undefined) return undefined;
      return inTransaction(async (tx) => {
        // Under the account's lock, so of two concurrent confirmations of one secret only one sees no twin.
        if (!(await lockAccountForTotp(tx, accountId))) return undefined;
        // The same set-up submitted twice: the factor exists already.
        for (const existing of await listTotpFactors(tx, accountId)) {
          if (safeEqual(secretOf(existing), secret)) return undefined;
        }
        const id = randomUUID();
        const record = await insertTotpFactor(tx, {
          id, accountId, name: label, secretEncrypted: encrypt(encryptionKey, secret, aad(id)), lastUsedStep: step,
        });
        return totpFactor(record);
      });
    },

    async verify(accountId, code): Promise<Factor | undefined> {
      const token = normalizeTotpCode(code);
      if (!token || !isUuid(accountId)) return undefined;
      return inTransaction(async (tx) => {
        // Under the account's lock: concurrent submissions of one code see each other's claims.
        if (!(await lockAccountForTotp(tx, accountId))) return undefined;
        const records = await listTotpFactors(tx, accountId);
        // A step is used once per account, whichever factor it was used on.
        const used = records.reduce<number | null>(
          (max, r) => (r.lastUsedStep === null ? max : Math.max(max ?? r.lastUsedStep, r.lastUsedStep)), null);
        for (const record of records) {
          const step = await matchingStep(secretOf(record), token, used);
          if (step === undefined) continue;
          const claimed = await claimTotpStep(tx, record.id, step);
          if (claimed) return totpFactor(claimed);
        }
        return undefined;
      });
    },
  };
}
