// SQL for the `totp_factors` table. The secret column holds an AES-GCM
// envelope; decrypting it is the caller's business.
import type { Queryable } from '../../db/database.ts';
import { fieldsOf } from '../../db/rows.ts';
import { isUuid } from '../../db/text.ts';
import type { Factor } from '../types.ts';

export interface TotpRecord {
  id: string;
  accountId: string;
  name: string;
  secretEncrypted: string;
  /** Last accepted 30 s step; null before the first use. */
  lastUsedStep: number | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

interface TotpRow {
  id: string;
  account_id: string;
  name: string;
  secret_encrypted: string;
  last_used_step: string | null; // bigint arrives as a string
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS = 'id, account_id, name, secret_encrypted, last_used_step, created_at, last_used_at';

const toRecord = (row: TotpRow): TotpRecord => ({
  ...fieldsOf(row),
  lastUsedStep: row.last_used_step === null ? null : Number(row.last_used_step),
});

export const totpFactor = (record: TotpRecord): Factor => ({
  id: record.id,
  kind: 'totp',
  name: record.name,
  createdAt: record.createdAt,
  lastUsedAt: record.lastUsedAt,
});

export async function insertTotpFactor(
  db: Queryable,
  factor: { id: string; accountId: string; name: string; secretEncrypted: string; lastUsedStep: number },
): Promise<TotpRecord> {
  // The confirming code's step counts as used, so it cannot sign in afterwards.
  const { rows } = await db.query<TotpRow>(
    `INSERT INTO totp_factors (id, account_id, name, secret_encrypted, last_used_step, last_used_at)
     VALUES ($1, $2, $3, $4, $5, now()) RETURNING ${COLUMNS}`,
    [factor.id, factor.accountId, factor.name, factor.secretEncrypted, factor.lastUsedStep],
  );
  return toRecord(rows[0]);
}

export async function listTotpFactors(db: Queryable, accountId: string): Promise<TotpRecord[]> {
  if (!isUuid(accountId)) return [];
  const { rows } = await db.query<TotpRow>(
    `SELECT ${COLUMNS} FROM totp_factors WHERE account_id = $1 ORDER BY created_at DESC, id`, [accountId]);
  return rows.map(toRecord);
}

/**
 * Takes the account's row lock for the rest of the transaction (the lock the
 * recovery codes and the factor directory take too): TOTP confirmations and
 * verifications of one account then run one after the other. false when the
 * account does not exist.
 */
export async function lockAccountForTotp(tx: Queryable, accountId: string): Promise<boolean> {
  if (!isUuid(accountId)) return false;
  const { rowCount } = await tx.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
  return (rowCount ?? 0) > 0;
}

/**
 * Records `step` as used on factor `id`, only if it is later than the last
 * used step of every TOTP factor of the account: two factors with one secret
 * must not accept one code twice. Run it under lockAccountForTotp; the
 * condition is a second line of defence, so of two requests with one code
 * only one gets a row back.
 */
export async function claimTotpStep(db: Queryable, id: string, step: number): Promise<TotpRecord | undefined> {
  const { rows } = await db.query<TotpRow>(
    `UPDATE totp_factors t SET last_used_step = $2, last_used_at = now()
     WHERE t.id = $1 AND NOT EXISTS (
       SELECT 1 FROM totp_factors o WHERE o.account_id = t.account_id AND o.last_used_step >= $2)
     RETURNING ${COLUMNS}`,
    [id, step],
  );
  return rows[0] && toRecord(rows[0]);
}
