// Failed sign-in limits (rate-limiter-flexible; Redis when given, so every
// process shares the counts). Blocks are ours rather than the library's
// blockDuration, to make them grow with each repeat (./blocks.ts). Limits: ./limits.ts.
import { isIPv6 } from 'node:net';
import type { RedisClient } from '../adapters/redis-topology.ts';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { emailHash } from '../accounts/email.ts';
import type { RequestMeta, SecurityEvents } from '../events/security-event.ts';
import { ThrottledError, type SignInThrottle } from './types.ts';
import { memoryBlockStore, nextBlock, redisBlockStore, secondsLeft, type Block, type BlockStore, type Clock } from './blocks.ts';
import { DEFAULT_LIMITS, type Limit, type LimiterName, type ThrottleLimits } from './limits.ts';

export interface SignInThrottleOptions {
  redis?: RedisClient;
  /** Prefix of every key (REDIS_KEY_PREFIX); ours are under `${keyPrefix}throttle:`. */
  keyPrefix: string;
  /** Keys the email hashes in throttle keys (Keyring.throttle), so they cannot be matched against a list of addresses. */
  emailHashKey: Buffer;
  logger: Logger;
  /** A throttle.blocked event each time a block starts. */
  events?: SecurityEvents;
  limits?: Partial<ThrottleLimits>;
  /** Tests only: the clock blocks are timed by (Date.now otherwise). */
  now?: Clock;
}

interface Rule { name: LimiterName; limit: Limit; attempts: RateLimiterAbstract; blocks: BlockStore }

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

/**
 * Each block ends its key's window of attempts: after it the key counts
 * afresh under a new name, one that an attempt racing with the block's start
 * (it read no block yet) cannot have counted under.
 */
const windowKey = (key: string, block: Block | undefined) => (block ? `${key}~${block.until}` : key);

export function createSignInThrottle({ redis, keyPrefix, emailHashKey, logger, events, limits = {}, now = Date.now }: SignInThrottleOptions): SignInThrottle {
  // Keys never hold an email: a keyed hash of its canonical form, the one
  // account lookup uses, so every spelling that finds an account shares its counts.
  const emailKey = (email: string) => emailHash(emailHashKey, email);
  const limiter = (prefix: string, points: number, duration: number): RateLimiterAbstract =>
    redis
      ? new RateLimiterRedis({ storeClient: redis, keyPrefix: prefix, points, duration })
      : new RateLimiterMemory({ keyPrefix: prefix, points, duration });
  const rule = (name: LimiterName): Rule => {
    const limit = { ...DEFAULT_LIMITS[name], ...limits[name] };
    const prefix = `${keyPrefix}throttle:${name}`;
    return {
      name, limit,
      attempts: limiter(prefix, limit.points, limit.duration),
      blocks: redis ? redisBlockStore(redis, `${keyPrefix}throttle:blocks:${name}:`, now) : memoryBlockStore(now),
    };
  };
  const rules = { ip: rule('ip'), accountIp: rule('accountIp'), account: rule('account'), secondFactor: rule('secondFactor') };
  type Applied = [Rule, string];

  /**
   * Counts an attempt on each of `applied` that is not blocked (an atomic
   * increment, before the answer is checked); throws when one of them is
   * blocked or over its limit. The one attempt that first goes over starts a
   * block (doubling with each repeat).
   */
  async function attempt(applied: Applied[], ip: string, request: RequestMeta = {}, accountId?: string): Promise<void> {
    let wait = 0;
    for (const [r, key] of applied) {
      const block = await r.blocks.get(key);
      const left = secondsLeft(block, now());
      if (left > 0) {
        logger.info({ limiter: r.name, retry_after_seconds: left, ip }, 'throttle: refused while blocked');
        wait = Math.max(wait, left);
        continue;
      }
      const res = await r.attempts.penalty(windowKey(key, block), 1);
      if (res.consumedPoints <= r.limit.points) {
        logger.info({ limiter: r.name, remaining: r.limit.points - res.consumedPoints }, 'throttle: attempt counted');
        continue;
      }
      // Over the limit: exactly one attempt (points + 1) starts the block;
      // those racing with it are refused for as long as it will last.
      const at = now();
      const next = nextBlock(r.limit, block, at);
      const duration = secondsLeft(next, at);
      if (res.consumedPoints === r.limit.points + 1) {
        await r.blocks.set(key, next);
        logger.warn({ limiter: r.name, retry_after_seconds: duration, blocks: next.count, ip }, 'throttle: blocked');
        events?.emit({
          type: 'throttle.blocked', outcome: 'failure', reason: 'throttled', actor: { kind: 'anonymous' },
          // The account limits of a password attempt count an email hash, not an account: no subject then.
          subject: r.name === 'secondFactor' ? accountId : undefined,
          ip: request.ip ?? ip, user_agent: request.user_agent, request_id: request.request_id,
          details: { limit: r.name, retry_after_seconds: duration, blocks: next.count },
        });
      } else {
        logger.info({ limiter: r.name, retry_after_seconds: duration, ip }, 'throttle: refused while blocked');
      }
      wait = Math.max(wait, duration);
    }
    if (wait > 0) throw new ThrottledError(wait);
  }

  /** A right answer: its attempt was not a failure. */
  async function giveBack(applied: Applied[]): Promise<void> {
    for (const [r, key] of applied) {
      const block = await r.blocks.get(key);
      // A block that started since the attempt ended the window it was counted in.
      if (secondsLeft(block, now()) === 0) await r.attempts.reward(windowKey(key, block), 1);
    }
  }

  async function reset(r: Rule, key: string, forgetBlocks = false): Promise<void> {
    const block = await r.blocks.get(key);
    await r.attempts.delete(windowKey(key, block));
    if (forgetBlocks) {
      // Without its blocks the key counts under its first window's name again.
      await r.attempts.delete(key);
      await r.blocks.delete(key);
    }
    logger.debug({ limiter: r.name, forget_blocks: forgetBlocks }, 'throttle: reset');
  }

  const passwordRules = (email: string, ip: string, knownBrowser = false): Applied[] => {
    const account = emailKey(email);
    return [
      [rules.ip, ipKey(ip)],
      [rules.accountIp, `${account}:${ipKey(ip)}`],
      ...(knownBrowser ? [] : [[rules.account, account] as Applied]),
    ];
  };
  const secondFactorRules = (accountId: string, ip: string): Applied[] => [[rules.ip, ipKey(ip)], [rules.secondFactor, accountId]];

  return {
    emailKey,
    async passwordAttempt(email, ip, options = {}) {
      const known = options.knownBrowser;
      if (typeof known !== 'function') return attempt(passwordRules(email, ip, known), ip, options.request);
      // The limits that need no lookup decide first; the all-IPs one only if the check says a stranger.
      const [ipRule, accountIpRule, accountRule] = passwordRules(email, ip, false);
      await attempt([ipRule, accountIpRule], ip, options.request);
      if (!(await known())) await attempt([accountRule], ip, options.request);
    },
    async passwordSucceeded(email, ip, options = {}) {
      const [ipRule, accountIpRule, ...accountRule] = passwordRules(email, ip, options.knownBrowser);
      await giveBack([ipRule, ...accountRule]);
      // The owner on this address is back: its history goes. The all-IPs
      // failures and block history stay until their window ends: someone
      // elsewhere may still be guessing, and the owner's sign-ins must not
      // hand them a fresh allowance each time.
      await reset(accountIpRule[0], accountIpRule[1], true);
    },
    secondFactorAttempt: (accountId, ip, request) => attempt(secondFactorRules(accountId, ip), ip, request, accountId),
    async secondFactorSucceeded(accountId, ip) {
      const [ipRule, accountRule] = secondFactorRules(accountId, ip);
      await giveBack([ipRule]);
      await reset(accountRule[0], accountRule[1]);
    },
  };
}
