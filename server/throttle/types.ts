// What the sign-in pages need from the throttle, injected like the MFA
// stores (server/mfa/types.ts). The implementation: ./sign-in-throttle.ts.
import { LatchkeyError } from '../errors.ts';
import type { RequestMeta } from '../events/security-event.ts';

/** A throttled attempt: answered with 429 and Retry-After (a sign-in page says how long to wait). */
export class ThrottledError extends LatchkeyError {
  override name = 'ThrottledError';
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('error.429', `too many attempts; retry after ${retryAfterSeconds} s`, {
      status: 429, headers: { 'Retry-After': String(retryAfterSeconds) },
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Sign-in attempt limits (rate-limiter-flexible; Redis when REDIS_URL is set).
 * An attempt is counted *before* its password or code is checked, so a burst
 * of parallel guesses cannot all slip under a limit; a right answer gives its
 * attempt back, so only failures add up. `*Attempt` throws ThrottledError
 * while a limit is exceeded (the first attempt over it starts a block). Blocks
 * grow with repeats and are capped, so nobody can lock an account for good.
 * Every decision is logged; a block starting is a throttle.blocked security
 * event (details.limit names the limiter).
 */
export interface SignInThrottle {
  /**
   * What the account limits count an email under: a keyed hash of its
   * canonical form (canonicalEmail), so every spelling that finds the account
   * shares one count. The known-browser cookie lists these too.
   */
  emailKey(email: string): string;
  /**
   * Limits: per IP, per account+IP, and per account from all IPs.
   * `knownBrowser`: the browser has signed in to this account before (or
   * holds a remembered device of it), so the all-IPs account limit, the one
   * an attacker elsewhere could run up against the owner, does not apply.
   * When finding out needs the database (a remembered device), it is a check
   * run only once the per-IP and account+IP limits let the attempt through:
   * an attempt they refuse runs no query (and is not counted on the account
   * limit: it checks no password).
   */
  passwordAttempt(email: string, ip: string, options?: { knownBrowser?: boolean | (() => Promise<boolean>); request?: RequestMeta }): Promise<void>;
  /** The password was right: its attempt is given back and the account+IP history cleared. */
  passwordSucceeded(email: string, ip: string, options?: { knownBrowser?: boolean }): Promise<void>;
  /** Limits: per IP and per account. */
  secondFactorAttempt(accountId: string, ip: string, request?: RequestMeta): Promise<void>;
  /** The factor was right: its attempt is given back and the account's count cleared. */
  secondFactorSucceeded(accountId: string, ip: string): Promise<void>;
}
