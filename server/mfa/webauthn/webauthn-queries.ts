// SQL for the `webauthn_credentials` table.
import type { Queryable } from '../../db/database.ts';
import { fieldsOf } from '../../db/rows.ts';
import { isStorableText, isUuid } from '../../db/text.ts';
import { ConflictError } from '../../errors.ts';
import type { Factor } from '../types.ts';

export interface WebAuthnRecord {
  id: string;
  accountId: string;
  name: string;
  /** base64url, as the browser reports it. */
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewWebAuthnRecord = Omit<WebAuthnRecord, 'createdAt' | 'lastUsedAt'>;

interface WebAuthnRow {
  id: string;
  account_id: string;
  name: string;
  credential_id: string;
  public_key: Buffer;
  sign_count: string; // bigint arrives as a string
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS = 'id, account_id, name, credential_id, public_key, sign_count, transports, device_type, backed_up, created_at, last_used_at';

const toRecord = (row: WebAuthnRow): WebAuthnRecord => ({
  ...fieldsOf(row),
  publicKey: new Uint8Array(row.public_key),
  signCount: Number(row.sign_count),
});

export const webAuthnFactor = (record: WebAuthnRecord): Factor => ({
  id: record.id,
  kind: 'webauthn',
  name: record.name,
  createdAt: record.createdAt,
  lastUsedAt: record.lastUsedAt,
  synced: record.deviceType === 'multiDevice' || record.backedUp,
});

export async function insertWebAuthnCredential(db: Queryable, credential: NewWebAuthnRecord): Promise<WebAuthnRecord> {
  try {
    const { rows } = await db.query<WebAuthnRow>(
      `INSERT INTO webauthn_credentials (id, account_id, name, credential_id, public_key, sign_count, transports, device_type, backed_up)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [credential.id, credential.accountId, credential.name, credential.credentialId, Buffer.from(credential.publicKey),
        credential.signCount, credential.transports, credential.deviceType, credential.backedUp],
    );
    return toRecord(rows[0]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new ConflictError('this security key is registered already');
    throw error;
  }
}

export async function listWebAuthnCredentials(db: Queryable, accountId: string): Promise<WebAuthnRecord[]> {
  if (!isUuid(accountId)) return [];
  const { rows } = await db.query<WebAuthnRow>(
    `SELECT ${COLUMNS} FROM webauthn_credentials WHERE account_id = $1 ORDER BY created_at DESC, id`, [accountId]);
  return rows.map(toRecord);
}

export async function findWebAuthnCredential(db: Queryable, credentialId: string): Promise<WebAuthnRecord | undefined> {
  if (!isStorableText(credentialId)) return undefined;
  const { rows } = await db.query<WebAuthnRow>(
    `SELECT ${COLUMNS} FROM webauthn_credentials WHERE credential_id = $1`, [credentialId]);
  return rows[0] && toRecord(rows[0]);
}

/**
 * Records a use, only if the counter is still the one the assertion was
 * checked against: compare-and-set, so two concurrent uses cannot both pass.
 */
export async function recordWebAuthnUse(
  db: Queryable, id: string, expectedCount: number, use: { signCount: number; backedUp: boolean },
): Promise<WebAuthnRecord | undefined> {
  const { rows } = await db.query<WebAuthnRow>(
    `UPDATE webauthn_credentials SET sign_count = $3, backed_up = $4, last_used_at = now()
     WHERE id = $1 AND sign_count = $2 RETURNING ${COLUMNS}`,
    [id, expectedCount, use.signCount, use.backedUp],
  );
  return rows[0] && toRecord(rows[0]);
}
