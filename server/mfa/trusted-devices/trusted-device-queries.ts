// SQL for the `trusted_devices` table: keyed hashes of the cookie tokens only.
// A device is live until it expires, and only if it was remembered after the
// account's last sign-out everywhere (accounts.sessions_revoked_at, also set
// by a password change): such a sign-out ends the devices as it ends the sessions.
import type { Queryable } from '../../db/database.ts';
import { fieldsOf } from '../../db/rows.ts';
import { isUuid } from '../../db/text.ts';
import type { TrustedDevice } from '../types.ts';

interface DeviceRow {
  id: string;
  account_id: string;
  label: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date;
}

const COLUMNS = 'id, account_id, label, created_at, last_used_at, expires_at';
const COLUMNS_OF_D = 'd.id, d.account_id, d.label, d.created_at, d.last_used_at, d.expires_at';

/** SQL condition: device `d` of account `a` (joined on d.account_id) is live. */
/** A device `d` of account `a` is live: not expired, and remembered since the account's last sign-out everywhere. */
export const LIVE = 'd.expires_at > now() AND (a.sessions_revoked_at IS NULL OR d.created_at >= a.sessions_revoked_at)';

// The account is the caller's already: a device does not repeat it.
const toDevice = (row: DeviceRow): TrustedDevice => {
  const { accountId: _account, ...device } = fieldsOf(row);
  return device;
};

export async function insertTrustedDevice(
  db: Queryable, device: { id: string; accountId: string; tokenHash: string; label: string; ttlSeconds: number },
): Promise<TrustedDevice> {
  // Housekeeping on the way: the account's dead devices (expired, or from before a sign-out everywhere) can go.
  await db.query(
    `DELETE FROM trusted_devices d USING accounts a
     WHERE a.id = d.account_id AND d.account_id = $1 AND NOT (${LIVE})`, [device.accountId]);
  const { rows } = await db.query<DeviceRow>(
    `INSERT INTO trusted_devices (id, account_id, token_hash, label, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING ${COLUMNS}`,
    [device.id, device.accountId, device.tokenHash, device.label, device.ttlSeconds],
  );
  return toDevice(rows[0]);
}

/** Records the use of the account's first live device among `hashes`; false when there is none. */
export async function touchTrustedDevice(db: Queryable, accountId: string, hashes: string[]): Promise<boolean> {
  if (!isUuid(accountId) || hashes.length === 0) return false;
  const { rowCount } = await db.query(
    `UPDATE trusted_devices d SET last_used_at = now() FROM accounts a
     WHERE a.id = d.account_id AND d.account_id = $1 AND d.token_hash = ANY($2::text[]) AND ${LIVE} RETURNING d.id`,
    [accountId, hashes],
  );
  return (rowCount ?? 0) > 0;
}

export async function accountsOfTrustedDevices(db: Queryable, hashes: string[]): Promise<string[]> {
  if (hashes.length === 0) return [];
  const { rows } = await db.query<{ account_id: string }>(
    `SELECT DISTINCT d.account_id FROM trusted_devices d JOIN accounts a ON a.id = d.account_id
     WHERE d.token_hash = ANY($1::text[]) AND ${LIVE}`, [hashes]);
  return rows.map((row) => row.account_id);
}

export async function listTrustedDevices(db: Queryable, accountId: string): Promise<TrustedDevice[]> {
  if (!isUuid(accountId)) return [];
  const { rows } = await db.query<DeviceRow>(
    `SELECT ${COLUMNS_OF_D} FROM trusted_devices d JOIN accounts a ON a.id = d.account_id
     WHERE d.account_id = $1 AND ${LIVE} ORDER BY d.created_at DESC, d.id`, [accountId]);
  return rows.map(toDevice);
}

export async function deleteTrustedDevice(db: Queryable, accountId: string, id: string): Promise<boolean> {
  if (!isUuid(accountId) || !isUuid(id)) return false;
  const { rowCount } = await db.query('DELETE FROM trusted_devices WHERE id = $1 AND account_id = $2', [id, accountId]);
  return (rowCount ?? 0) > 0;
}

export async function deleteTrustedDevices(db: Queryable, accountId: string): Promise<number> {
  if (!isUuid(accountId)) return 0;
  const { rowCount } = await db.query('DELETE FROM trusted_devices WHERE account_id = $1', [accountId]);
  return rowCount ?? 0;
}
