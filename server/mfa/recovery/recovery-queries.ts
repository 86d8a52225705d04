// SQL for the `recovery_codes` table: keyed hashes only, never the codes.
import type { Queryable } from '../../db/database.ts';
import { isUuid } from '../../db/text.ts';

/** Deletes the account's codes (used or not) and stores `hashes` as its new set. */
export async function replaceRecoveryCodes(db: Queryable, accountId: string, hashes: string[]): Promise<void> {
  // Run in a transaction; the row lock makes two concurrent regenerations leave one set, not both.
  await db.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [accountId]);
  await db.query('DELETE FROM recovery_codes WHERE account_id = $1', [accountId]);
  await db.query(
    'INSERT INTO recovery_codes (account_id, code_hash) SELECT $1, unnest($2::text[])', [accountId, hashes]);
}

/** Marks the code used if it is the account's and unused; atomic, so a code works once even under a race. */
export async function useRecoveryCode(db: Queryable, accountId: string, hash: string): Promise<boolean> {
  if (!isUuid(accountId)) return false;
  const { rowCount } = await db.query(
    `UPDATE recovery_codes SET used_at = now()
     WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING account_id`,
    [accountId, hash],
  );
  return (rowCount ?? 0) > 0;
}

export async function countRemainingRecoveryCodes(db: Queryable, accountId: string): Promise<number> {
  if (!isUuid(accountId)) return 0;
  const { rows } = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL', [accountId]);
  return rows[0].count;
}

export async function deleteRecoveryCodes(db: Queryable, accountId: string): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM recovery_codes WHERE account_id = $1', [accountId]);
  return rowCount ?? 0;
}
