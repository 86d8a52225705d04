// Recovery codes: 10 single-use codes of 16 Crockford base32 characters
// (80 bits each, xxxx-xxxx-xxxx-xxxx), shown once, stored as keyed hashes.
// 80 random bits cannot be brute-forced offline, so a fast HMAC is enough.
import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../db/database.ts';
import { hashSecret } from '../../crypto/secrets.ts';
import type { RecoveryCodes } from '../types.ts';
import { countRemainingRecoveryCodes, replaceRecoveryCodes, useRecoveryCode } from './recovery-queries.ts';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no i, l, o or u, so nothing reads as something else. */
export const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_LENGTH = 16; // 16 × 5 bits = 80 bits

/** 16 characters from 10 random bytes, 5 bits each: uniform, no modulo bias. */
function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let chars = '';
  for (let i = CODE_LENGTH - 1; i >= 0; i--) chars += RECOVERY_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return chars.match(/.{4}/g)!.join('-');
}

/**
 * As typed, any case, spaces and dashes ignored; the letters Crockford reads
 * as digits (o -> 0, i/l -> 1) too. undefined when it cannot be a code.
 */
export function normalizeRecoveryCode(code: unknown): string | undefined {
  if (typeof code !== 'string' || code.length > 64) return undefined;
  const normalized = code.toLowerCase().replace(/[\s-]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  return new RegExp(`^[${RECOVERY_ALPHABET}]{${CODE_LENGTH}}$`).test(normalized) ? normalized : undefined;
}

const isDatabase = (db: Queryable): db is Database => typeof (db as Database).transaction === 'function';

export function createRecoveryCodes({ db, hashKey }: { db: Queryable; hashKey: Buffer }): RecoveryCodes {
  // The prefix keeps these hashes apart from other secrets hashed with the same key.
  const hash = (normalized: string) => hashSecret(hashKey, `recovery:${normalized}`);
  return {
    async regenerate(accountId) {
      const codes = new Set<string>();
      while (codes.size < RECOVERY_CODE_COUNT) codes.add(newCode());
      const hashes = [...codes].map((code) => hash(normalizeRecoveryCode(code)!));
      // One transaction: the old codes must never outlive the new ones, nor the account be left without any.
      if (isDatabase(db)) await db.transaction((tx) => replaceRecoveryCodes(tx, accountId, hashes));
      else await replaceRecoveryCodes(db, accountId, hashes); // already inside the caller's transaction
      return [...codes];
    },

    async use(accountId, code) {
      const normalized = normalizeRecoveryCode(code);
      if (!normalized) return undefined;
      if (!(await useRecoveryCode(db, accountId, hash(normalized)))) return undefined;
      return { remaining: await countRemainingRecoveryCodes(db, accountId) };
    },

    remaining: (accountId) => countRemainingRecoveryCodes(db, accountId),
  };
}
