// Failed sign-in limits (rate-limiter-flexible; Redis when given, so every
// process shares the counts). Blocks are ours rather than the library's
// blockDuration, to make them grow with each repeat. Limits: ./limits.ts.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ThrottledError, type SignInThrottle } from '../types.ts';
import { BLOCK_MEMORY_SECONDS, blockSeconds, DEFAULT_LIMITS, type Limit, type LimiterName, type ThrottleLimits } from './limits.ts';

export interface SignInThrottleOptions {
  redis?: Redis;
  /** Prefix of every key (REDIS_KEY_PREFIX); ours are under `${keyPrefix}throttle:`. */
  keyPrefix: string;
  logger: Logger;
  limits?: Partial<ThrottleLimits>;
}

interface Rule { name: LimiterName; limit: Limit; failures: RateLimiterAbstract; blocks: RateLimiterAbstract }

/** Keys never hold an email: a SHA-256 of its normalised form. */
export const emailKey = (email: string): string =>
  createHash('sha256').update(email.trim().normalize('NFKC').toLowerCase()).digest('hex');

/** IPv6 clients usually hold a whole /64, so that is what counts as one address. */
export function ipKey(ip: string): string {
  const address = ip.trim().toLowerCase().slice(0, 64);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export function createSignInThrottle({ redis, keyPrefix, logger, limits = {} }: SignInThrottleOptions): SignInThrottle {
  const limiter = (prefix: string, points: number, duration: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points, duration })
      : new RateLimiterMemory({ keyPrefix: prefix, points, duration });
  const rule = (name: LimiterName): Rule => {
    const limit = { ...DEFAULT_LIMITS[name], ...limits[name] };
    const prefix = `${keyPrefix}throttle:${name}`;
    return {
      name, limit,
      failures: limiter(prefix, limit.points, limit.duration),
      blocks: limiter(`${prefix}:blocks`, Number.MAX_SAFE_INTEGER, BLOCK_MEMORY_SECONDS),
    };
  };
  const rules = { ip: rule('ip'), accountIp: rule('accountIp'), account: rule('account'), secondFactor: rule('secondFactor') };
  type Applied = [Rule, string];

  /** Throws while any of `applied` is blocked, with the longest wait. */
  async function check(applied: Applied[], ip: string): Promise<void> {
    let wait = 0;
    let blocking: LimiterName | undefined;
    for (const [r, key] of applied) {
      const res = await r.failures.get(key);
      if (res && res.consumedPoints >= r.limit.points && res.msBeforeNext > 0 && seconds(res.msBeforeNext) > wait) {
        wait = seconds(res.msBeforeNext);
        blocking = r.name;
      }
    }
    if (!blocking) return;
    logger.info({ limiter: blocking, retryAfterSeconds: wait, ip }, 'throttle: refused while blocked');
    throw new ThrottledError(wait);
  }

  /** Counts a failure on each of `applied`; throws when one of them is (now) blocked. */
  async function fail(applied: Applied[], ip: string): Promise<void> {
    let wait = 0;
    for (const [r, key] of applied) {
      const res = await r.failures.penalty(key, 1);
      logger.info({ limiter: r.name, remaining: Math.max(r.limit.points - res.consumedPoints, 0) }, 'throttle: failure counted');
      if (res.consumedPoints > r.limit.points) {
        wait = Math.max(wait, seconds(res.msBeforeNext)); // blocked already (the caller did not check first)
      } else if (res.consumedPoints === r.limit.points) {
        // Exactly one failure reaches the limit (the increment is atomic), so one block per episode.
        const n = (await r.blocks.penalty(key, 1)).consumedPoints;
        const duration = blockSeconds(r.limit, n);
        await r.failures.block(key, duration);
        logger.warn({ limiter: r.name, retryAfterSeconds: duration, blocks: n, ip }, 'throttle: blocked');
        wait = Math.max(wait, duration);
      }
    }
    if (wait > 0) throw new ThrottledError(wait);
  }

  async function reset(r: Rule, key: string, forgetBlocks = false): Promise<void> {
    await r.failures.delete(key);
    if (forgetBlocks) await r.blocks.delete(key);
    logger.debug({ limiter: r.name, forgetBlocks }, 'throttle: reset');
  }

  const passwordRules = (email: string, ip: string, trustedDevice = false): Applied[] => {
    const account = emailKey(email);
    return [
      [rules.ip, ipKey(ip)],
      [rules.accountIp, `${account}:${ipKey(ip)}`],
      ...(trustedDevice ? [] : [[rules.account, account] as Applied]),
    ];
  };
  const secondFactorRules = (accountId: string, ip: string): Applied[] => [[rules.ip, ipKey(ip)], [rules.secondFactor, accountId]];

  return {
    checkPassword: (email, ip, options = {}) => check(passwordRules(email, ip, options.trustedDevice), ip),
    passwordFailed: (email, ip) => fail(passwordRules(email, ip), ip),
    async passwordSucceeded(email, ip) {
      const account = emailKey(email);
      // The owner on this address is back: its history goes. The all-IPs
      // count and block history stay until their window ends: someone
      // elsewhere may still be guessing, and the owner's sign-ins must not
      // hand them a fresh allowance each time.
      await reset(rules.accountIp, `${account}:${ipKey(ip)}`, true);
    },
    checkSecondFactor: (accountId, ip) => check(secondFactorRules(accountId, ip), ip),
    secondFactorFailed: (accountId, ip) => fail(secondFactorRules(accountId, ip), ip),
    secondFactorSucceeded: (accountId) => reset(rules.secondFactor, accountId),
  };
}
