// How many failed sign-in attempts Latchkey tolerates, and for how long it then
// refuses. Every block is temporary: it starts short, doubles each time the
// same key is blocked again within BLOCK_MEMORY_SECONDS, and stops at a cap,
// so an attacker can slow a victim's sign-in down but never lock it for good.

export type LimiterName = 'ip' | 'accountIp' | 'account' | 'secondFactor';

export interface Limit {
  /** Failures allowed in the window; the one that reaches this number starts a block. */
  points: number;
  /** The window, in seconds. */
  duration: number;
  /** The first block, in seconds; each further block within 24 h lasts twice as long. */
  block: number;
  /** The longest a block ever lasts, in seconds. */
  maxBlock: number;
}

export type ThrottleLimits = Record<LimiterName, Limit>;

export const DEFAULT_LIMITS: ThrottleLimits = {
  // Per client IP (IPv6: per /64), failed passwords and second factors together:
  // 100 an hour, then 15 min, doubling up to 1 h. Generous for a shared NAT,
  // stops one address from spraying passwords over many accounts.
  ip: { points: 100, duration: 3600, block: 900, maxBlock: 3600 },
  // Per account and IP: 5 failed passwords in 15 min, then 1 min, doubling up to 15 min.
  // The limit someone guessing one account from one place meets first.
  accountIp: { points: 5, duration: 900, block: 60, maxBlock: 900 },
  // Per account from all IPs: 20 failed passwords an hour, then 1 min, doubling up to 15 min.
  // Stops distributed guessing; not applied to a browser with a remembered device
  // of the account, so the owner can still sign in while someone elsewhere runs it up.
  account: { points: 20, duration: 3600, block: 60, maxBlock: 900 },
  // Per account: 5 failed second factors in 15 min, then 1 min, doubling up to 15 min.
  // A 6-digit code then holds out for years against someone who has the password.
  secondFactor: { points: 5, duration: 900, block: 60, maxBlock: 900 },
};

/** How long a key's past blocks count towards making the next one longer. */
export const BLOCK_MEMORY_SECONDS = 24 * 3600;

/** The n-th block (1-based) of a key: doubling from `block`, capped at `maxBlock`. */
export const blockSeconds = (limit: Limit, n: number): number =>
  Math.min(limit.maxBlock, limit.block * 2 ** Math.min(Math.max(n - 1, 0), 30));
