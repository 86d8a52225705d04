// SQL for the `accounts` table. Emails are stored as typed (`email`, shown)
// and canonical (`email_canonical`, unique): lookups and uniqueness compare
// canonicalEmail(), computed here rather than by the database's locale.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { LIVE } from '../mfa/trusted-devices/trusted-device-queries.ts';
import type { FactorSummary, WebAuthnKey } from '../mfa/types.ts';
import { canonicalEmail } from './email.ts';
import type { Account } from './types.ts';
import { fieldsOf, found } from '../db/rows.ts';
import { isStorableText, isUuid } from '../db/text.ts';

/** An account with its password hash: for the password logic only, never printed. */
export interface AccountRecord extends Account {
  passwordHash: string;
}

export interface NewAccountRecord {
  email: string;
  name: string | null;
  emailVerified: boolean;
  passwordHash: string;
}

interface AccountRow {
  id: string;
  email: string;
  email_verified: boolean;
  name: string | null;
  password_hash: string;
  disabled: boolean;
  require_mfa: boolean;
  sessions_revoked_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, email, email_verified, name, password_hash, disabled, require_mfa, sessions_revoked_at, created_at, updated_at';

const toRecord = (row: AccountRow): AccountRecord => fieldsOf(row);

/** Drops the hash so it cannot travel further by accident. */
export function toAccount({ passwordHash: _hash, ...account }: AccountRecord): Account {
  return account;
}

export async function insertAccount(db: Queryable, account: NewAccountRecord): Promise<Account> {
  try {
    const { rows } = await db.query<AccountRow>(
      `INSERT INTO accounts (id, email, email_canonical, email_verified, name, password_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [randomUUID(), account.email, canonicalEmail(account.email), account.emailVerified, account.name, account.passwordHash],
    );
    return toAccount(toRecord(rows[0]));
  } catch (error) {
    if ((error as { code?: string }).code === '23505') throw new ConflictError('an account with this email already exists');
    throw error;
  }
}

export async function findAccountById(db: Queryable, id: string): Promise<AccountRecord | undefined> {
  if (!isUuid(id)) return undefined; // Postgres would reject a malformed uuid with an error
  const { rows } = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}

/** The account whose address is `email` in any spelling canonicalEmail() folds together. */
export async function findAccountByEmail(db: Queryable, email: string): Promise<AccountRecord | undefined> {
  const canonical = canonicalEmail(email);
  if (!isStorableText(canonical)) return undefined;
  const { rows } = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts WHERE email_canonical = $1`, [canonical]);
  return rows[0] && toRecord(rows[0]);
}

/** An account with what a sign-in step decides from, read in one query. */
export interface SignInSubjectRecord {
  record: AccountRecord;
  factors: FactorSummary;
  /** One of the given device-token hashes is a live remembered device of the account. */
  rememberedHere: boolean;
}

interface SubjectRow extends AccountRow {
  has_totp: boolean;
  webauthn_keys: WebAuthnKey[];
  remembered_here: boolean;
}

// The account, its factors in brief, and whether the browser's remembered-device
// tokens ($2) hold one of its live devices: one round trip for a sign-in step.
const SUBJECT = `SELECT ${COLUMNS.split(', ').map((column) => `a.${column}`).join(', ')},
    EXISTS (SELECT 1 FROM totp_factors t WHERE t.account_id = a.id) AS has_totp,
    COALESCE((SELECT json_agg(json_build_object('id', w.credential_id, 'transports', w.transports) ORDER BY w.created_at, w.id)
      FROM webauthn_credentials w WHERE w.account_id = a.id), '[]'::json) AS webauthn_keys,
    EXISTS (SELECT 1 FROM trusted_devices d WHERE d.account_id = a.id AND d.token_hash = ANY($2::text[]) AND ${LIVE}) AS remembered_here
  FROM accounts a`;

/** The account `by` names (its id, or any spelling of its email) with its factor summary; one query. */
export async function findSignInSubject(db: Queryable, by: { id: string } | { email: string }, deviceTokenHashes: string[] = []): Promise<SignInSubjectRecord | undefined> {
  let where: string;
  let value: string;
  if ('id' in by) {
    if (!isUuid(by.id)) return undefined;
    [where, value] = ['a.id = $1', by.id];
  } else {
    value = canonicalEmail(by.email);
    if (!isStorableText(value)) return undefined;
    where = 'a.email_canonical = $1';
  }
  const { rows } = await db.query<SubjectRow>(`${SUBJECT} WHERE ${where}`, [value, deviceTokenHashes]);
  const row = rows[0];
  return row && {
    record: toRecord(row),
    factors: { hasTotp: row.has_totp, webauthn: row.webauthn_keys },
    rememberedHere: row.remembered_here,
  };
}

export async function listAccounts(db: Queryable): Promise<Account[]> {
  const { rows } = await db.query<AccountRow>(`SELECT ${COLUMNS} FROM accounts ORDER BY created_at, email`);
  return rows.map((row) => toAccount(toRecord(row)));
}

export async function setDisabled(db: Queryable, id: string, disabled: boolean): Promise<Account> {
  const { rows } = await db.query<AccountRow>(
    `UPDATE accounts SET disabled = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, disabled]);
  return toAccount(toRecord(found(rows[0], `account ${id}`)));
}

/** Marks (or unmarks) the account as having to sign in with a second factor. */
export async function setRequireMfa(db: Queryable, id: string, requireMfa: boolean): Promise<Account> {
  const { rows } = await db.query<AccountRow>(
    `UPDATE accounts SET require_mfa = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, requireMfa]);
  return toAccount(toRecord(found(rows[0], `account ${id}`)));
}

export async function setPasswordHash(db: Queryable, id: string, passwordHash: string): Promise<void> {
  const { rowCount } = await db.query(
    // A new password ends every session and token of the old one.
    'UPDATE accounts SET password_hash = $2, sessions_revoked_at = now(), updated_at = now() WHERE id = $1', [id, passwordHash]);
  if (!rowCount) throw new NotFoundError(`unknown account ${id}`);
}

/** Ends every session and token issued to the account so far. */
export async function revokeSessions(db: Queryable, id: string): Promise<void> {
  const { rowCount } = await db.query('UPDATE accounts SET sessions_revoked_at = now(), updated_at = now() WHERE id = $1', [id]);
  if (!rowCount) throw new NotFoundError(`unknown account ${id}`);
}

/** Replaces the hash only if it is still `expected` (rehash at sign-in must not undo a concurrent set-password). */
export async function replacePasswordHash(db: Queryable, id: string, expected: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, expected, passwordHash]);
}

export async function deleteAccount(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM accounts WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
