// Signing keys: generated on first start (ES256 signs by default, RS256 for
// clients that need it), private halves encrypted with the master key,
// rotated by `latchkey keys rotate`. SQL for signing_keys lives here only.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { WrongMasterKeyError } from '../crypto/master-key.ts';
import { decrypt, encrypt } from '../crypto/secrets.ts';
import type { Database, Queryable } from '../db/database.ts';
import { SIGNING_ALGS, type SigningAlg } from '../protocol/constants.ts';


export interface SigningKeyInfo {
  kid: string;
  alg: string;
  createdAt: Date;
  /** When it starts signing (published before, if in the future). */
  activatesAt: Date;
  /** When a newer key took (or takes) over signing. */
  retiredAt: Date | null;
  /** Signs new tokens now. */
  active: boolean;
}

// Signs now: activated, and not (yet) replaced.
const SIGNING = '(activates_at <= now() AND (retired_at IS NULL OR retired_at > now()))';

const LOCK_ID = 7_420_114; // serialises key generation across processes

async function generateKey(alg: SigningAlg, encryptionKey: Buffer) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${randomUUID()}`;
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, encrypted: encrypt(encryptionKey, JSON.stringify(privateJwk), kid), publicJwk };
}

async function insertKeys(tx: Queryable, algs: readonly SigningAlg[], encryptionKey: Buffer, activateInSeconds = 0) {
  const created = [];
  for (const alg of algs) {
    const key = await generateKey(alg, encryptionKey);
    await tx.query(
      `INSERT INTO signing_keys (kid, alg, private_jwk_encrypted, public_jwk, activates_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [key.kid, key.alg, key.encrypted, JSON.stringify(key.publicJwk), activateInSeconds],
    );
    created.push({ kid: key.kid, alg: key.alg });
  }
  return created;
}

/** Creates a key for every alg that has no active one (first start). */
export function ensureSigningKeys(db: Database, encryptionKey: Buffer): Promise<{ kid: string; alg: string }[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    const { rows } = await tx.query<{ alg: string }>('SELECT DISTINCT alg FROM signing_keys WHERE retired_at IS NULL');
    const present = new Set(rows.map((r) => r.alg));
    return insertKeys(tx, SIGNING_ALGS.filter((alg) => !present.has(alg)), encryptionKey);
  });
}

/**
 * A new key per alg becomes the signer, now or after `activateInSeconds`
 * (published meanwhile, so every server and every resource server's JWKS
 * cache knows it before a token carries it); the old ones keep signing until
 * then and stay published until their tokens expire.
 */
export function rotateSigningKeys(db: Database, encryptionKey: Buffer, activateInSeconds = 0): Promise<{ kid: string; alg: string }[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await tx.query('UPDATE signing_keys SET retired_at = now() + make_interval(secs => $1) WHERE retired_at IS NULL', [activateInSeconds]);
    return insertKeys(tx, SIGNING_ALGS, encryptionKey, activateInSeconds);
  });
}

export async function listSigningKeys(db: Queryable): Promise<SigningKeyInfo[]> {
  const { rows } = await db.query<{ kid: string; alg: string; created_at: Date; activates_at: Date; retired_at: Date | null; signing: boolean }>(
    `SELECT kid, alg, created_at, activates_at, retired_at, ${SIGNING} AS signing FROM signing_keys ORDER BY created_at DESC, kid`,
  );
  return rows.map((r) => ({ kid: r.kid, alg: r.alg, createdAt: r.created_at, activatesAt: r.activates_at, retiredAt: r.retired_at, active: r.signing }));
}

/**
 * Private JWKs for the provider: signing keys first (oidc-provider signs with
 * the first key of an alg), then keys waiting to sign and retired keys still
 * inside their retention window (so tokens they signed keep verifying), then
 * nothing older.
 */
export async function loadSigningJwks(db: Queryable, encryptionKey: Buffer, retentionSeconds: number): Promise<JWK[]> {
  const { rows } = await db.query<{ kid: string; private_jwk_encrypted: string }>(
    `SELECT kid, private_jwk_encrypted FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY ${SIGNING} DESC, created_at DESC, kid`,
    [retentionSeconds],
  );
  return rows.map((r) => JSON.parse(openPrivateJwk(encryptionKey, r.private_jwk_encrypted, r.kid)) as JWK);
}

/** AES-GCM refuses an envelope made under another key: say that, not "unable to authenticate data". */
function openPrivateJwk(encryptionKey: Buffer, envelope: string, kid: string): string {
  try {
    return decrypt(encryptionKey, envelope, kid);
  } catch {
    throw new WrongMasterKeyError('signing keys');
  }
}

/** When the next published key starts signing, if one is waiting. */
export async function nextKeyActivation(db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | null }>('SELECT min(activates_at) AS at FROM signing_keys WHERE activates_at > now()');
  return rows[0]?.at ?? undefined;
}

/** When the signing keys in use started signing (the oldest of them), if any signs. */
export async function signingSince(db: Queryable): Promise<Date | undefined> {
  const { rows } = await db.query<{ at: Date | null }>(`SELECT min(activates_at) AS at FROM signing_keys WHERE ${SIGNING}`);
  return rows[0]?.at ?? undefined;
}

/** Longest lifetime of any JWT we sign: how long a retired key must stay in JWKS. */
export async function longestApiTokenTtl(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ ttl: number | null }>('SELECT max(access_token_ttl) AS ttl FROM apis');
  return rows[0]?.ttl ?? 0;
}
