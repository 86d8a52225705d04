// An end-user account.
import type { FactorSummary } from '../mfa/types.ts';

export interface Account {
  /** UUID, the OIDC `sub`. */
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  disabled: boolean;
  /** Sign-in must use a second factor, whatever MFA_POLICY and the client say (`users require-mfa`). */
  requireMfa: boolean;
  /** Sessions and tokens issued before this are no longer honoured (sign-out everywhere). */
  sessionsRevokedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Was something issued at `issuedAt` (epoch seconds) before the account's
 * sign-out everywhere? Issue times have whole seconds, so a sign-in in the
 * sign-out's own second counts as after it: signing in again right away
 * works. (Refresh tokens are judged by their chain's first issue time, see
 * lineageIssuedAt, so rotating cannot move a chain past the sign-out.)
 */
export function issuedBeforeRevocation(account: Pick<Account, 'sessionsRevokedAt'>, issuedAt: number | undefined): boolean {
  if (!account.sessionsRevokedAt) return false;
  return (issuedAt ?? 0) < Math.floor(account.sessionsRevokedAt.getTime() / 1000);
}

/**
 * When a token's line began: a rotated refresh token carries the first one's
 * issue time (iiat), so a chain that started before a sign-out stays dead
 * however often it rotated.
 */
export const lineageIssuedAt = (token: { iat?: number; iiat?: number }): number | undefined => token.iiat ?? token.iat;

export interface NewAccount {
  email: string;
  name?: string;
  emailVerified?: boolean;
  password: string;
}

/** An account as a sign-in step sees it: with its factors in brief, loaded together. */
export interface SignInSubject {
  account: Account;
  factors: FactorSummary;
}

/** The account an email names, looked up once for a password POST. */
export interface PasswordCandidate {
  /** The browser's remembered-device tokens hold a live device of this account. */
  rememberedHere: boolean;
  /**
   * The account with its factors when `password` is right and the account
   * enabled, else undefined; an unknown email costs the same argon2 work (a
   * dummy verify). Rehashes below-cost hashes (a failure is logged).
   */
  verify(password: string, refused?: (reason: PasswordRefusal) => void): Promise<SignInSubject | undefined>;
}

/** Why a password sign-in was refused (reason codes of sign_in.failed). */
export type PasswordRefusal = 'unknown_account' | 'bad_password' | 'account_disabled';

/** What the sign-in step needs. */
export interface PasswordAuthenticator {
  /**
   * The one lookup of `email` a password POST makes: the account, its
   * factors, and whether one of `deviceTokenHashes` (TrustedDevices.tokenHashes)
   * is a remembered device of it.
   */
  passwordCandidate(email: string, deviceTokenHashes?: string[]): Promise<PasswordCandidate>;
  /**
   * The account when email and password match and it is enabled, else
   * undefined. Unknown email, wrong password and disabled account take the
   * same time (a dummy argon2 verify runs when there is no hash to check).
   * Rehashes when the stored hash's parameters are below the configured ones.
   * `refused` hears why it was refused, for the audit trail only (the page says the same in every case).
   */
  authenticate(email: string, password: string, refused?: (reason: PasswordRefusal) => void): Promise<Account | undefined>;
}

/** What findAccount and userinfo need. */
export interface AccountLookup {
  findById(id: string): Promise<Account | undefined>;
}

/** What the sign-in flow needs to load an interaction's account: with its factors, in one query. */
export interface SignInSubjectLookup {
  findSignInSubject(id: string): Promise<SignInSubject | undefined>;
}
