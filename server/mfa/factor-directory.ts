// An account's second factors as a whole: what the account page and the CLI
// list, remove and reset. Works on a Database (opens its own transactions)
// or on a transaction the caller already holds.
import type { Database, Queryable } from '../db/database.ts';
import { isUuid } from '../db/text.ts';
import { deleteRecoveryCodes } from './recovery/recovery-queries.ts';
import { deleteTrustedDevices } from './trusted-devices/trusted-device-queries.ts';
import { listTotpFactors, totpFactor } from './totp/totp-queries.ts';
import type { FactorDirectory } from './types.ts';
import { listWebAuthnCredentials, webAuthnFactor } from './webauthn/webauthn-queries.ts';

const isDatabase = (db: Queryable): db is Database => typeof (db as Database).transaction === 'function';

const HAS_FACTORS = `SELECT EXISTS (SELECT 1 FROM totp_factors WHERE account_id = $1)
  OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE account_id = $1) AS has`;

// Whether the account has factor $2, and how many factors (TOTP and WebAuthn together) it has.
const COUNT_FACTORS = `SELECT
    EXISTS (SELECT 1 FROM totp_factors WHERE account_id = $1 AND id = $2)
      OR EXISTS (SELECT 1 FROM webauthn_credentials WHERE account_id = $1 AND id = $2) AS found,
    (SELECT count(*) FROM totp_factors WHERE account_id = $1)::int
      + (SELECT count(*) FROM webauthn_credentials WHERE account_id = $1)::int AS total`;

export function createFactorDirectory(db: Queryable): FactorDirectory {
  const inTransaction = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => (isDatabase(db) ? db.transaction(fn) : fn(db));
  const count = async (tx: Queryable, sql: string, accountId: string) => (await tx.query(sql, [accountId])).rowCount ?? 0;

  return {
    async list(accountId) {
      const [totp, webauthn] = await Promise.all([listTotpFactors(db, accountId), listWebAuthnCredentials(db, accountId)]);
      return [...totp.map(totpFactor), ...webauthn.map(webAuthnFactor)]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    },

    async hasFactors(accountId) {
      if (!isUuid(accountId)) return false;
      const { rows } = await db.query<{ has: boolean }>(HAS_FACTORS, [accountId]);
      return rows[0].has;
    },

    async remove(accountId, factorId, { keepLast = false } = {}) {
      if (!isUuid(accountId) || !isUuid(factorId)) return 'not-found';
      return inTransaction(async (tx) => {
        // Serialises factor removals per account: two removals of the last two
        // factors must not each see the other's factor (and keep the recovery
        // codes, or with keepLast leave the account with none).
        await tx.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
        if (keepLast) {
          const { rows } = await tx.query<{ found: boolean; total: number }>(COUNT_FACTORS, [accountId, factorId]);
          if (!rows[0].found) return 'not-found';
          if (rows[0].total <= 1) return 'last-factor';
        }
        const { rowCount: totp } = await tx.query('DELETE FROM totp_factors WHERE account_id = $1 AND id = $2', [accountId, factorId]);
        const { rowCount: webauthn } = await tx.query('DELETE FROM webauthn_credentials WHERE account_id = $1 AND id = $2', [accountId, factorId]);
        if (!totp && !webauthn) return 'not-found';
        const { rows } = await tx.query<{ has: boolean }>(HAS_FACTORS, [accountId]);
        // Recovery codes back up the factors: with none left they go too (a new enrolment issues new ones).
        if (!rows[0].has) await deleteRecoveryCodes(tx, accountId);
        return 'removed';
      });
    },

    async reset(accountId) {
      if (!isUuid(accountId)) return { totp: 0, webauthn: 0, recoveryCodes: 0, trustedDevices: 0 };
      return inTransaction(async (tx) => ({
        totp: await count(tx, 'DELETE FROM totp_factors WHERE account_id = $1', accountId),
        webauthn: await count(tx, 'DELETE FROM webauthn_credentials WHERE account_id = $1', accountId),
        recoveryCodes: await deleteRecoveryCodes(tx, accountId),
        trustedDevices: await deleteTrustedDevices(tx, accountId),
      }));
    },
  };
}
