// needs: postgres redis
// C56 one address, one count: the sign-in throttle counts an email exactly as
// the account lookup reads it. Every spelling of an address that signs in to
// an account (Unicode case pairs İ/i, ı, ß/ss, ſ, the Kelvin and Angstrom
// signs, decomposed letters, fullwidth forms, ligatures) is blocked when the
// account is blocked, whichever spelling ran the count up; cycling spellings
// buys no extra guesses; and what the server keeps about an address outside
// the accounts table (Redis throttle keys, the known-browser cookie) is a
// keyed hash, not a SHA-256 anyone can compute from a list of addresses.
// Black box against a production-mode server (one IP per browser through
// X-Forwarded-For, as in C35).
import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { connectRedis } from '../../server/adapters/redis-connection.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';
import { createUser } from './_support-pages.ts';
import {
  ACCOUNT_BLOCK_MAX_SECONDS, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP, MAX_PASSWORD_FAILURES_WIDE,
  assertThrottled, attemptUntilThrottled, codeOf, concurrencyLimit, describe, isPasswordStep, startMfaFixture, uniqueIp,
  type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { assertNotSignedIn, beginSignIn, completeSignIn, submitPassword } from './_support-mfa-flow.ts';

let fixture: MfaFixture;
const redis = connectRedis(TEST_REDIS_URL);

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
  await redis.quit();
});

const wrongPassword = () => `wrong-${randomBytes(9).toString('base64url')}`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A user whose email is `<local><digits>@example.test`, `local` as given (it may hold any Unicode). */
async function userNamed(local: string): Promise<MfaUser & { tag: string }> {
  const tag = String(randomInt(1e9));
  return { ...await createUser(fixture.server, { email: `${local}${tag}@example.test` }), tag };
}

async function loginPage(browser: MfaBrowser): Promise<Step> {
  const { step } = await beginSignIn(fixture, browser);
  if (!isPasswordStep(step)) throw new Error(`expected the password page, got ${describe(step)}`);
  return step;
}

/** Submits `email` with the user's right password on a fresh interaction; the step after it, through to the client when it signs in. */
async function rightPassword(browser: MfaBrowser, email: string, user: MfaUser): Promise<Step> {
  const after = await submitPassword(browser, await loginPage(browser), email, user.password);
  return after.response.status >= 400 ? after : completeSignIn(browser, after, user);
}

/** Wrong passwords from one browser (one IP) until 429; returns how many it took. */
async function blockFrom(t: ExecutionContext, browser: MfaBrowser, spellings: string[], label: string): Promise<number | undefined> {
  const page = await loginPage(browser);
  const { throttled, attempts } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP,
    (i) => submitPassword(browser, page, spellings[i % spellings.length], wrongPassword()), label);
  if (throttled) assertThrottled(t, throttled, label, ACCOUNT_BLOCK_MAX_SECONDS);
  return throttled ? attempts : undefined;
}

test('C56: six wrong passwords for ibis@… from one IP block it; the right password spelled İbis@… (or another way) does not sign in', async (t) => {
  const user = await userNamed('ibis');
  const spellings = [`İbis${user.tag}@example.test`, `İBİS${user.tag}@EXAMPLE.TEST`, `I\u0307bis${user.tag}@example.test`, `ıbıs${user.tag}@example.test`,
    `IBIS${user.tag}@example.test`, `ｉｂｉｓ${user.tag}@example.test`, ` Ibis${user.tag}@Example.Test `];
  const attacker = fixture.browser();
  const attempts = await blockFrom(t, attacker, [user.email], 'wrong passwords for ibis@… from one IP');
  if (attempts === undefined) return;
  t.log(`429 after ${attempts} wrong passwords`);
  for (const spelling of spellings) {
    const answer = await rightPassword(attacker, spelling, user);
    t.is(codeOf(answer), undefined, `${JSON.stringify(spelling)} with the right password must not sign in while ${user.email} is blocked`);
    assertThrottled(t, answer, `${JSON.stringify(spelling)} while blocked`, ACCOUNT_BLOCK_MAX_SECONDS);
  }
  await assertNotSignedIn(t, fixture, attacker, 'after the right password in other spellings');

  // The throttle's Redis keys hold no plain SHA-256 of the address, in any spelling.
  const keys = await redis.keys(`${fixture.server.env.REDIS_KEY_PREFIX}throttle:*`);
  t.true(keys.length > 0, 'the throttle keeps its counts in Redis');
  const plain = [user.email, ...spellings, user.email.toLowerCase()].flatMap((email) => [email, email.trim().normalize('NFKC').toLowerCase()]).map(sha256);
  for (const key of keys) t.false(plain.some((hash) => key.includes(hash.slice(0, 32))), `${key} holds a plain hash of the email`);
});

/** [stored local part, another spelling of it]: Unicode case and compatibility pairs. */
const PAIRS: [string, string][] = [
  ['ibis', 'İbis'], // U+0130, capital I with dot above
  ['İbis', 'ibis'],
  ['ibis', 'ıbis'], // dotless i
  ['ibis', 'IBIS'],
  ['strasse', 'straße'],
  ['straße', 'STRASSE'],
  ['strasse', 'STRAẞE'], // capital sharp s
  ['sam', 'ſam'], // long s
  ['kim', '\u212Aim'], // Kelvin sign
  ['åsa', '\u212Bsa'], // Angstrom sign
  ['åsa', 'A\u030Asa'], // decomposed
  ['ann', 'ａｎｎ'], // fullwidth
  ['fiona', 'ﬁona'], // ligature
  ['first', 'ﬁrﬆ'],
];

test('C56: every spelling that signs in to an account is blocked when the account is blocked, whichever spelling ran up the count', async (t) => {
  t.timeout(300_000);
  const limit = concurrencyLimit(3);
  const signedIn: string[] = [];
  await Promise.all(PAIRS.map(([stored, other]) => limit(async () => {
    const user = await userNamed(stored);
    const spelling = `${other}${user.tag}@example.test`;
    const label = `${JSON.stringify(user.email)} / ${JSON.stringify(spelling)}`;
    // Does this spelling sign in to the account at all? (From its own address, before any block.)
    const control = await rightPassword(fixture.browser(), spelling, user);
    if (!codeOf(control)) {
      t.is(control.response.status, 401, `${label}: a spelling that does not sign in is an ordinary refusal (${describe(control)})`);
      return;
    }
    signedIn.push(label);
    // Blocked through the stored spelling: the other one is refused too, and the other way round.
    for (const [blockedWith, tried] of [[user.email, spelling], [spelling, user.email]]) {
      const attacker = fixture.browser();
      if (await blockFrom(t, attacker, [blockedWith], `${label}: wrong passwords as ${JSON.stringify(blockedWith)}`) === undefined) return;
      const answer = await rightPassword(attacker, tried, user);
      t.is(codeOf(answer), undefined, `${label}: ${JSON.stringify(tried)} signs in although ${JSON.stringify(blockedWith)} is blocked`);
      assertThrottled(t, answer, `${label}: ${JSON.stringify(tried)} after ${JSON.stringify(blockedWith)} was blocked`, ACCOUNT_BLOCK_MAX_SECONDS);
    }
  })));
  t.log(`spellings that sign in: ${signedIn.join(', ')}`);
  // The controls did their job: plain case and fullwidth letters are the same address.
  t.true(signedIn.some((label) => label.includes('IBIS')) && signedIn.some((label) => label.includes('ａｎｎ')), signedIn.join(', '));
  // And Latchkey folds every pair here into one address (server/accounts/email.ts), so none was skipped above.
  t.is(signedIn.length, PAIRS.length, `spellings that sign in: ${signedIn.join(', ')}`);
});

test('C56: cycling through spellings of the address buys no extra wrong passwords', async (t) => {
  const one = await userNamed('kiss');
  const many = await userNamed('kiss');
  const spellings = (tag: string) => ['kiss', 'kİss', 'KISS', 'KİSS', 'kiß', '\u212Aiss', 'kıss', 'kİſs', 'ｋｉｓｓ']
    .map((local) => `${local}${tag}@example.test`);
  const withOne = await blockFrom(t, fixture.browser(), [one.email], 'one spelling');
  const withMany = await blockFrom(t, fixture.browser(), spellings(many.tag), 'spellings in turn');
  t.log(`429 after ${withOne} wrong passwords in one spelling, ${withMany} in turns`);
  if (withOne !== undefined && withMany !== undefined) t.true(withMany <= withOne, `${withMany} attempts in turns vs ${withOne} in one spelling`);
});

test('C56: the known-browser cookie marks the account, whatever the spelling, and holds no plain hash of the address', async (t) => {
  t.timeout(180_000);
  const victim = await userNamed('ibis');
  const ownerIp = uniqueIp();
  const before = fixture.browser(ownerIp);
  t.truthy(codeOf(await rightPassword(before, victim.email, victim)), 'the owner signs in once');
  const known = [...before.cookies].find(([name]) => /latchkey_known$/.test(name));
  t.truthy(known, 'the sign-in set a known-browser cookie');
  const typed = victim.email;
  const plainMarkers = [typed, typed.toLowerCase(), typed.normalize('NFKC').toLowerCase()].map((email) => sha256(email).slice(0, 32));
  t.false(plainMarkers.some((marker) => known![1].includes(marker)), 'the cookie is not a plain SHA-256 of the email');

  // Many addresses run the account-wide limit up, in several spellings.
  const attacker = fixture.browser();
  const page = await loginPage(attacker);
  const spellings = [`İbis${victim.tag}@example.test`, `IBIS${victim.tag}@example.test`, `ıbis${victim.tag}@example.test`, victim.email];
  const { throttled } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_WIDE, (i) => {
    attacker.ip = uniqueIp();
    return submitPassword(attacker, page, spellings[i % spellings.length], wrongPassword());
  }, 'wrong passwords for one account from many IPs, in several spellings');
  if (!throttled) return;
  const stranger = fixture.browser();
  assertThrottled(t, await rightPassword(stranger, `İBİS${victim.tag}@example.test`, victim), 'the right password from a new browser', ACCOUNT_BLOCK_MAX_SECONDS);

  // The owner's browser, signed out (only its known-browser cookie kept), types the address another way: still in.
  const owner = fixture.browser(ownerIp);
  for (const [name, value] of before.cookies) if (name.includes('latchkey_known')) owner.cookies.set(name, value);
  const done = await rightPassword(owner, `İbis${victim.tag}@Example.Test`, victim);
  t.truthy(codeOf(done), `the owner signs in: ${describe(done)}`);
});
