// Sign-in attempt limits on the in-process store: an attempt counts before
// its answer is checked and a right answer gives it back, so N failures use
// the allowance and the next attempt starts a block; blocks double and stop at
// a cap; the known-browser exemption; resets on success; email keys are keyed
// hashes of the canonical address. Block lengths are timed by an injected
// clock, so most of this runs on a fake one; one test waits in real time.
// (Shared counts over Redis: test/integration/mfa-stores.test.ts.)
import test from 'ava';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createSignInThrottle, ipKey } from '../../server/throttle/sign-in-throttle.ts';
import { nextBlock, secondsLeft } from '../../server/throttle/blocks.ts';
import { BLOCK_MEMORY_SECONDS, blockSeconds, DEFAULT_LIMITS, type ThrottleLimits } from '../../server/throttle/limits.ts';
import { ThrottledError, type SignInThrottle } from '../../server/throttle/types.ts';

interface LogLine { level: number; msg: string; limiter?: string; remaining?: number; retry_after_seconds?: number; ip?: string }

const EMAIL_HASH_KEY = Buffer.alloc(32, 7);

/** A clock that moves only when told. */
function fakeClock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => { now += seconds * 1000; } };
}

function throttle(limits: Partial<ThrottleLimits> = {}, emailHashKey = EMAIL_HASH_KEY, now?: () => number) {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { throttle: createSignInThrottle({ keyPrefix: 'test:', emailHashKey, logger, limits, now }), lines };
}

/** The ThrottledError a call throws, or undefined when it does not throw. */
async function refusal(promise: Promise<void>): Promise<ThrottledError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof ThrottledError) return error;
    throw error;
  }
}

/** An attempt whose answer was wrong: counted, never given back. */
const wrongPassword = (th: SignInThrottle, email: string, ip: string, options?: { knownBrowser?: boolean }) => refusal(th.passwordAttempt(email, ip, options));

test('five wrong passwords for one account from one IP use the allowance; the next attempt is refused for a minute', async (t) => {
  const { throttle: th, lines } = throttle();
  for (let i = 1; i <= 5; i++) t.is(await wrongPassword(th, 'ann@example.com', '192.0.2.1'), undefined, `attempt ${i}`);
  const started = await wrongPassword(th, 'ann@example.com', '192.0.2.1');
  t.is(started?.retryAfterSeconds, 60);
  const refused = await wrongPassword(th, 'ann@example.com', '192.0.2.1');
  t.true(refused instanceof ThrottledError);
  t.true(Number.isInteger(refused!.retryAfterSeconds) && refused!.retryAfterSeconds >= 59 && refused!.retryAfterSeconds <= 60);
  // Same account elsewhere, another account here: not blocked.
  t.is(await wrongPassword(th, 'ann@example.com', '198.51.100.7'), undefined);
  t.is(await wrongPassword(th, 'bob@example.com', '192.0.2.1'), undefined);

  const counted = lines.filter((l) => l.msg === 'throttle: attempt counted' && l.limiter === 'accountIp').slice(0, 5);
  t.deepEqual(counted.map((l) => l.remaining), [4, 3, 2, 1, 0]);
  t.like(lines.find((l) => l.msg === 'throttle: blocked'), { level: 40, limiter: 'accountIp', retry_after_seconds: 60, ip: '192.0.2.1' });
  t.like(lines.find((l) => l.msg === 'throttle: refused while blocked'), { level: 30, limiter: 'accountIp' });
  t.false(JSON.stringify(lines).includes('ann@example.com'));
});

test('parallel guesses cannot slip under the limit: each is counted before it is checked', async (t) => {
  const { throttle: th } = throttle();
  const answers = await Promise.all(Array.from({ length: 50 }, () => wrongPassword(th, 'ann@example.com', '192.0.2.1')));
  t.is(answers.filter((a) => a === undefined).length, 5, 'exactly the allowance gets through to the password check');
  const account = '3f8a4c1e-0000-4000-8000-000000000003';
  const codes = await Promise.all(Array.from({ length: 50 }, () => refusal(th.secondFactorAttempt(account, '192.0.2.2'))));
  t.is(codes.filter((a) => a === undefined).length, 5);
});

test('the email is normalised: case, spaces and Unicode forms share one count', async (t) => {
  const { throttle: th } = throttle({ accountIp: { points: 2, duration: 900, block: 60, maxBlock: 900 } });
  await wrongPassword(th, 'Ann@Example.com', '192.0.2.1');
  await wrongPassword(th, '  ann@example.COM ', '192.0.2.1');
  t.truthy(await wrongPassword(th, 'ａｎｎ@example.com', '192.0.2.1')); // fullwidth, NFKC folds it
  t.is(th.emailKey(' ANN@example.com'), th.emailKey('ann@example.com'));
  t.regex(th.emailKey('ann@example.com'), /^[0-9a-f]{64}$/);
});

test('C56: the email key is the canonical address (İ, ı, ß, ſ, Kelvin sign, ligatures), so such spellings share one count', async (t) => {
  const { throttle: th } = throttle({ accountIp: { points: 2, duration: 900, block: 60, maxBlock: 900 } });
  await wrongPassword(th, 'ibis@example.com', '192.0.2.1');
  await wrongPassword(th, 'ibis@example.com', '192.0.2.1');
  t.truthy(await wrongPassword(th, 'İbis@example.com', '192.0.2.1'), 'İ counts with i');
  for (const [a, b] of [['İbis', 'ibis'], ['ıbis', 'IBIS'], ['straße', 'STRASSE'], ['ſam', 'sam'], ['\u212Aim', 'kim'], ['ﬁona', 'fiona'], ['Ａnn', 'ann']]) {
    t.is(th.emailKey(`${a}@example.com`), th.emailKey(`${b}@example.com`), `${a} and ${b}`);
  }
  t.not(th.emailKey('ibis@example.com'), th.emailKey('ibis@example.co'));
});

test('C56: the email key is keyed: not a plain hash of the address, and another key gives another hash', (t) => {
  const { throttle: th } = throttle();
  const { throttle: other } = throttle({}, Buffer.alloc(32, 8));
  const plain = createHash('sha256').update('ann@example.com').digest('hex');
  t.not(th.emailKey('ann@example.com'), plain);
  t.not(th.emailKey('ann@example.com'), other.emailKey('ann@example.com'));
  t.is(th.emailKey('Ann@Example.com'), throttle().throttle.emailKey('ann@example.com'), 'the same key gives the same hash (shared counts)');
});

test('repeated blocks double, up to the cap, and the owner signing in does not lift them (fake clock)', async (t) => {
  const clock = fakeClock();
  const { throttle: th, lines } = throttle({
    account: { points: 3, duration: 3600, block: 1, maxBlock: 2 },
    accountIp: { points: 1000, duration: 900, block: 60, maxBlock: 900 },
  }, EMAIL_HASH_KEY, clock.now);
  const waits = [];
  for (let round = 0; round < 3; round++) {
    let error;
    for (let i = 0; i < 4; i++) error = await wrongPassword(th, 'ann@example.com', `192.0.2.${10 * round + i}`);
    waits.push(error?.retryAfterSeconds);
    // The block is real: every address is refused now.
    t.truthy(await wrongPassword(th, 'ann@example.com', '203.0.113.99'));
    // The owner signs in from a known browser; the all-IPs block stays for everyone else.
    await th.passwordAttempt('ann@example.com', '192.0.2.200', { knownBrowser: true });
    await th.passwordSucceeded('ann@example.com', '192.0.2.200', { knownBrowser: true });
    t.truthy(await wrongPassword(th, 'ann@example.com', '203.0.113.98'));
    clock.advance(error!.retryAfterSeconds);
  }
  t.deepEqual(waits, [1, 2, 2]);
  t.deepEqual(lines.filter((l) => l.msg === 'throttle: blocked').map((l) => l.retry_after_seconds), [1, 2, 2]);
});

test('block durations double from the first block to the cap', (t) => {
  const rule = { points: 3, duration: 3600, block: 60, maxBlock: 300 };
  t.deepEqual([1, 2, 3, 4, 5].map((n) => blockSeconds(rule, n)), [60, 120, 240, 300, 300]);
});

test('blocks end by themselves and grow for a repeat offender (IP, real time)', async (t) => {
  const { throttle: th } = throttle({
    ip: { points: 2, duration: 60, block: 1, maxBlock: 2 },
    accountIp: { points: 1000, duration: 60, block: 1, maxBlock: 1 },
    account: { points: 1000, duration: 60, block: 1, maxBlock: 1 },
  });
  const ip = '192.0.2.50';
  const fail = (n: number) => wrongPassword(th, `user${n}@example.com`, ip);
  t.is(await fail(1), undefined);
  t.is(await fail(2), undefined);
  t.is((await fail(3))?.retryAfterSeconds, 1);
  await sleep(1100);
  t.is(await fail(4), undefined); // never permanent
  t.is(await fail(5), undefined);
  t.is((await fail(6))?.retryAfterSeconds, 2); // the second block is longer
  await sleep(1100);
  t.truthy(await fail(7));
  await sleep(1000);
  t.is(await fail(8), undefined);
  t.is(await fail(9), undefined);
  t.is((await fail(10))?.retryAfterSeconds, 2); // capped
});

test('the default limits: growth from 1 min, capped at 15 min (IP: from 15 min, capped at 1 h)', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 50].map((n) => blockSeconds(DEFAULT_LIMITS.accountIp, n)), [60, 120, 240, 480, 900, 900, 900]);
  t.deepEqual([1, 2, 3, 4].map((n) => blockSeconds(DEFAULT_LIMITS.ip, n)), [900, 1800, 3600, 3600]);
  t.like(DEFAULT_LIMITS, {
    ip: { points: 100, duration: 3600 },
    accountIp: { points: 5, duration: 900 },
    account: { points: 20, duration: 3600 },
    secondFactor: { points: 5, duration: 900 },
  });
});

test('default limits on a fake clock: each block ends exactly on time, counts down, and the next doubles up to the cap', async (t) => {
  const clock = fakeClock();
  const { throttle: th, lines } = throttle({}, EMAIL_HASH_KEY, clock.now);
  const waits = [];
  // From a known browser, so that only the account+IP limit applies (the
  // all-IPs one counts in real time, which this clock does not move).
  const known = { knownBrowser: true };
  for (let round = 0; round < 6; round++) {
    // A fresh allowance after every block: five wrong passwords pass, the sixth starts the next block.
    for (let i = 1; i <= 5; i++) t.is(await wrongPassword(th, 'ann@example.com', '192.0.2.1', known), undefined, `round ${round}, attempt ${i}`);
    const started = await wrongPassword(th, 'ann@example.com', '192.0.2.1', known);
    waits.push(started?.retryAfterSeconds);
    clock.advance(started!.retryAfterSeconds - 1);
    t.is((await wrongPassword(th, 'ann@example.com', '192.0.2.1', known))?.retryAfterSeconds, 1, 'one second before its end');
    clock.advance(1);
  }
  t.deepEqual(waits, [60, 120, 240, 480, 900, 900]);
  t.deepEqual(lines.filter((l) => l.msg === 'throttle: blocked').map((l) => l.retry_after_seconds), [60, 120, 240, 480, 900, 900]);
  // The per-IP limit: 100 failures (any accounts), then from 15 min up to 1 h.
  const ipWaits = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 100; i++) t.is(await wrongPassword(th, `user${round}-${i}@example.com`, '198.51.100.1'), undefined);
    const started = await wrongPassword(th, 'someone@example.com', '198.51.100.1');
    ipWaits.push(started?.retryAfterSeconds);
    clock.advance(started!.retryAfterSeconds);
  }
  t.deepEqual(ipWaits, [900, 1800, 3600, 3600]);
});

test('a block counts towards the next for 24 hours from the first one, then the length starts over', (t) => {
  const limit = DEFAULT_LIMITS.accountIp;
  const start = Date.UTC(2030, 0, 1);
  const first = nextBlock(limit, undefined, start);
  t.deepEqual(first, { count: 1, firstAt: start, until: start + 60_000 });
  const second = nextBlock(limit, first, start + 3600_000);
  t.deepEqual(second, { count: 2, firstAt: start, until: start + 3600_000 + 120_000 });
  t.is(nextBlock(limit, second, start + BLOCK_MEMORY_SECONDS * 1000 - 1).count, 3);
  t.deepEqual(nextBlock(limit, second, start + BLOCK_MEMORY_SECONDS * 1000), { count: 1, firstAt: start + BLOCK_MEMORY_SECONDS * 1000, until: start + BLOCK_MEMORY_SECONDS * 1000 + 60_000 });
  // What a refused attempt is told: whole seconds, rounded up, never 0 while blocked.
  t.is(secondsLeft(first, start), 60);
  t.is(secondsLeft(first, start + 59_001), 1);
  t.is(secondsLeft(first, start + 60_000), 0);
  t.is(secondsLeft(undefined, start), 0);
});

test('a known browser skips the all-IPs account limit, not the account+IP one', async (t) => {
  const { throttle: th } = throttle({ account: { points: 3, duration: 3600, block: 60, maxBlock: 900 } });
  // Someone elsewhere runs the account limit up.
  for (let i = 0; i < 4; i++) await wrongPassword(th, 'ann@example.com', `198.51.100.${i}`);
  t.truthy(await wrongPassword(th, 'ann@example.com', '192.0.2.1'));
  await t.notThrowsAsync(th.passwordAttempt('ann@example.com', '192.0.2.2', { knownBrowser: true }));
  // But guessing from one address with a known browser still meets account+IP.
  for (let i = 0; i < 5; i++) await wrongPassword(th, 'ann@example.com', '203.0.113.5', { knownBrowser: true });
  t.true((await wrongPassword(th, 'ann@example.com', '203.0.113.5', { knownBrowser: true })) instanceof ThrottledError);
});

test('a right password gives its attempt back and clears the account+IP count, not the IP one', async (t) => {
  const { throttle: th } = throttle({ ip: { points: 11, duration: 3600, block: 900, maxBlock: 3600 } });
  for (let i = 0; i < 4; i++) await wrongPassword(th, 'ann@example.com', '192.0.2.1');
  await th.passwordAttempt('ann@example.com', '192.0.2.1');
  await th.passwordSucceeded('ann@example.com', '192.0.2.1');
  // The account+IP count starts again: five more wrong ones are allowed.
  for (let i = 0; i < 5; i++) t.is(await wrongPassword(th, 'ann@example.com', '192.0.2.1'), undefined);
  t.truthy(await wrongPassword(th, 'ann@example.com', '192.0.2.1'), 'the sixth is over the account+IP limit');
  // The IP kept its 9 wrong and 1 refused attempts (the right one was given back): one more is allowed, then a block.
  t.is(await wrongPassword(th, 'bob@example.com', '192.0.2.1'), undefined);
  t.is((await wrongPassword(th, 'carol@example.com', '192.0.2.1'))?.retryAfterSeconds, 900);
});

test('second factors: 5 wrong per account, cleared by a right one; counted from any address', async (t) => {
  const { throttle: th, lines } = throttle();
  const account = '3f8a4c1e-0000-4000-8000-000000000001';
  const wrongCode = (ip: string) => refusal(th.secondFactorAttempt(account, ip));
  for (let i = 0; i < 4; i++) t.is(await wrongCode('192.0.2.1'), undefined);
  await th.secondFactorAttempt(account, '192.0.2.1');
  await th.secondFactorSucceeded(account, '192.0.2.1');
  for (let i = 0; i < 5; i++) t.is(await wrongCode(`192.0.2.${i}`), undefined);
  t.is((await wrongCode('192.0.2.9'))?.retryAfterSeconds, 60);
  t.truthy(await wrongCode('198.51.100.1')); // per account, from any address
  await t.notThrowsAsync(th.secondFactorAttempt('3f8a4c1e-0000-4000-8000-000000000002', '198.51.100.1'));
  t.true(lines.some((l) => l.msg === 'throttle: reset' && l.level === 20 && l.limiter === 'secondFactor'));
});

test('IPv6 addresses count per /64; IPv4-mapped ones as IPv4', (t) => {
  t.is(ipKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.is(ipKey('2001:db8:1:2::ffff'), '2001:db8:1:2::/64');
  t.is(ipKey('2001:db8::1'), '2001:db8:0:0::/64');
  t.is(ipKey('::ffff:192.0.2.1'), '192.0.2.1');
  t.is(ipKey('192.0.2.1'), '192.0.2.1');
});
