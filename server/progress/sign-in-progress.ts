// What a sign-in has proven so far, kept server-side under its interaction's
// uid (the session is signed in only when the flow is done); the account page
// keeps its TOTP set-ups in the same store, under the session. Secrets that
// wait here (a TOTP secret being set up, recovery codes to show) are
// encrypted, so a store dump does not reveal them.
import type { Adapter } from '../adapters/index.ts';
import { decrypt, encrypt } from '../crypto/secrets.ts';
import type { SignInResult } from '../mfa/policy.ts';

export interface SignInProgress {
  /** The account whose password (or session, for a step-up) is proven. */
  accountId: string;
  /** amr already proven: ['pwd'] after the password, or the session's for a step-up. */
  amr: string[];
  /** When that was proven (epoch seconds): a sign-out everywhere since voids the progress. */
  provenAt?: number;
  /** A TOTP secret shown on the enrol page, waiting for its first code. */
  pendingTotpSecret?: string;
  /** The finished sign-in, held while a notice (recovery codes) is shown. */
  result?: SignInResult;
  /** Shown before the sign-in finishes. */
  notice?: { kind: 'recovery-codes'; codes: string[] } | { kind: 'recovery-used'; remaining: number };
  /** Remember this browser for the account once the sign-in finishes. */
  rememberDevice?: boolean;
}

export interface SignInProgressStore {
  get(uid: string): Promise<SignInProgress | undefined>;
  save(uid: string, progress: SignInProgress): Promise<void>;
  clear(uid: string): Promise<void>;
}

interface Stored {
  accountId: string;
  amr: string[];
  provenAt?: number;
  secret?: string;
  result?: SignInResult;
  notice?: string;
  rememberDevice?: boolean;
}

export function createSignInProgressStore(adapter: Adapter, encryptionKey: Buffer, ttlSeconds: number): SignInProgressStore {
  const aad = (uid: string) => `sign-in-progress:${uid}`;
  return {
    async get(uid) {
      const stored = (await adapter.find(uid)) as Stored | undefined;
      if (!stored) return undefined;
      return {
        accountId: stored.accountId,
        amr: stored.amr,
        provenAt: stored.provenAt,
        result: stored.result,
        rememberDevice: stored.rememberDevice,
        pendingTotpSecret: stored.secret ? decrypt(encryptionKey, stored.secret, aad(uid)) : undefined,
        notice: stored.notice ? JSON.parse(decrypt(encryptionKey, stored.notice, aad(uid))) : undefined,
      };
    },
    async save(uid, progress) {
      const stored: Stored = {
        accountId: progress.accountId,
        amr: progress.amr,
        provenAt: progress.provenAt,
        result: progress.result,
        rememberDevice: progress.rememberDevice,
        secret: progress.pendingTotpSecret ? encrypt(encryptionKey, progress.pendingTotpSecret, aad(uid)) : undefined,
        notice: progress.notice ? encrypt(encryptionKey, JSON.stringify(progress.notice), aad(uid)) : undefined,
      };
      await adapter.upsert(uid, stored as never, ttlSeconds);
    },
    async clear(uid) {
      await adapter.destroy(uid);
    },
  };
}
