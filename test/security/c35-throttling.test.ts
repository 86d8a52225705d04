// needs: postgres redis
// C35 throttling: repeated failures per account and per IP get 429 with
// Retry-After (whole seconds) and a "Too many attempts" page; a block also
// refuses the right password; and an attacker cannot lock a victim out for
// ever: one IP's failures do not block the account elsewhere, a browser with
// a remembered device of the account (or where the owner signed in before)
// still signs in while the account is blocked for everyone else, and account blocks are bounded (Retry-After at
// most 15 minutes, not prolonged by attempts during the block). Failed
// second factors are throttled too, across sign-in attempts.
// Client IPs are simulated with X-Forwarded-For (the server runs with
// TRUST_PROXY=true, one proxy: the last entry counts); every browser has its
// own IP unless a test shares one.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import {
  ACCOUNT_BLOCK_MAX_SECONDS, IP_BLOCK_MAX_SECONDS, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP, MAX_PASSWORD_FAILURES_WIDE,
  MAX_SECOND_FACTOR_FAILURES, assertThrottled, attemptUntilThrottled, browserWithDeviceCookie, codeOf, describe, deviceCookieName,
  isPasswordStep, isSecondFactorStep, newUser, retryAfterOf, startMfaFixture, uniqueIp, type MfaFixture, type Step,
} from './_support-mfa.ts';
import {
  assertNotSignedIn, beginSignIn, completeSignIn, passwordStepDone, signInForCode, submitPassword, submitRecoveryCode, submitTotp,
  userWithTotp,
} from './_support-mfa-flow.ts';

let fixture: MfaFixture;

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

const wrongPassword = () => `wrong-${randomBytes(9).toString('base64url')}`;

/** The login page of a fresh interaction in `browser`. */
async function loginPage(browser: ReturnType<MfaFixture['browser']>): Promise<Step> {
  const { step } = await beginSignIn(fixture, browser);
  if (!isPasswordStep(step)) throw new Error(`expected the password page, got ${describe(step)}`);
  return step;
}

test('C35: wrong passwords for one account from one IP get 429 with Retry-After and "Too many attempts"; the right password is refused too while blocked', async (t) => {
  const victim = await newUser(fixture);
  const attacker = fixture.browser();
  const page = await loginPage(attacker);

  const { throttled, attempts } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP,
    () => submitPassword(attacker, page, victim.email, wrongPassword()), 'wrong passwords, one account, one IP');
  if (!throttled) return;
  t.log(`429 after ${attempts} wrong passwords`);
  const first = assertThrottled(t, throttled, 'the throttled attempt', ACCOUNT_BLOCK_MAX_SECONDS);

  // The block is a block: the right password from the same IP is refused as well, without a code.
  const right = await submitPassword(attacker, page, victim.email, victim.password);
  assertThrottled(t, right, 'the right password while blocked', ACCOUNT_BLOCK_MAX_SECONDS);
  await assertNotSignedIn(t, fixture, attacker, 'after the blocked right password');

  // Hammering during the block does not make it longer (or longer than 15 minutes).
  let previous = first ?? ACCOUNT_BLOCK_MAX_SECONDS;
  for (let i = 0; i < 10; i++) {
    const again = await submitPassword(attacker, page, victim.email, wrongPassword());
    t.is(again.response.status, 429, `attempt ${i + 1} during the block`);
    const seconds = retryAfterOf(again.response);
    t.true(seconds !== undefined && seconds <= ACCOUNT_BLOCK_MAX_SECONDS, `Retry-After ${seconds} during the block is at most ${ACCOUNT_BLOCK_MAX_SECONDS} s`);
    if (seconds !== undefined) {
      t.true(seconds <= previous + 1, `attempts during the block do not extend it (Retry-After ${previous} -> ${seconds})`);
      previous = seconds;
    }
  }
});

test('C35: one IP\'s failures do not lock the account for the owner at another IP', async (t) => {
  const victim = await newUser(fixture);
  const attacker = fixture.browser();
  const page = await loginPage(attacker);
  const { throttled } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP,
    () => submitPassword(attacker, page, victim.email, wrongPassword()), 'wrong passwords from the attacker\'s IP');
  if (!throttled) return;

  const owner = fixture.browser();
  const code = await signInForCode(fixture, owner, victim).catch((error: Error) => error);
  t.is(typeof code, 'string', `the owner at another IP signs in while the attacker's IP is blocked: ${code instanceof Error ? code.message : ''}`);
});

test('C35: one IP trying many accounts is throttled (per-IP limit), and then even a valid sign-in from that IP is refused; other IPs are not affected', async (t) => {
  const user = await newUser(fixture);
  const sprayer = fixture.browser();
  const page = await loginPage(sprayer);
  // A different (mostly unknown) email each time: no per-account counter reaches its limit.
  const { throttled, attempts } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_WIDE,
    (i) => submitPassword(sprayer, page, `spray-${i}-${randomBytes(4).toString('hex')}@example.test`, wrongPassword()), 'password spraying from one IP');
  if (!throttled) return;
  t.log(`429 after ${attempts} failures over ${attempts} accounts`);
  assertThrottled(t, throttled, 'spraying from one IP', IP_BLOCK_MAX_SECONDS);

  const valid = await submitPassword(sprayer, page, user.email, user.password);
  assertThrottled(t, valid, 'a valid user\'s right password from the blocked IP', IP_BLOCK_MAX_SECONDS);

  const elsewhere = fixture.browser();
  const code = await signInForCode(fixture, elsewhere, user).catch((error: Error) => error);
  t.is(typeof code, 'string', `the same user from another IP signs in: ${code instanceof Error ? code.message : ''}`);
});

test('C35: failures from many IPs block the account, but the owner\'s remembered device still signs in, and the block is bounded', async (t) => {
  t.timeout(180_000);
  const victim = await userWithTotp(fixture);
  // The owner signed in once before and ticked "Remember this device".
  const ownerIp = uniqueIp();
  const before = fixture.browser(ownerIp);
  await signInForCode(fixture, before, victim, { rememberDevice: true });
  const cookie = deviceCookieName(before);
  t.truthy(cookie, `"Remember this device" set a latchkey_device cookie (cookies: ${[...before.cookies.keys()].join(', ')})`);

  // A distributed attack: every wrong password from a new IP, so only the account-wide limit can stop it.
  const attacker = fixture.browser();
  const page = await loginPage(attacker);
  const { throttled, attempts } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_WIDE, () => {
    attacker.ip = uniqueIp();
    return submitPassword(attacker, page, victim.email, wrongPassword());
  }, 'wrong passwords for one account from many IPs');
  if (!throttled) return;
  t.log(`account blocked after ${attempts} failures from ${attempts} IPs`);
  assertThrottled(t, throttled, 'the account-wide block', ACCOUNT_BLOCK_MAX_SECONDS);

  // Someone at a new IP without the device cookie: blocked even with the right password.
  const stranger = fixture.browser();
  const strangerPage = await loginPage(stranger);
  const blocked = await submitPassword(stranger, strangerPage, victim.email, victim.password);
  assertThrottled(t, blocked, 'the right password from a new IP without a remembered device', ACCOUNT_BLOCK_MAX_SECONDS);

  // The owner's browser (signed out, remembered device kept) still gets in.
  const owner = browserWithDeviceCookie(fixture.issuer, before, ownerIp);
  const ownerPage = await loginPage(owner);
  const afterPassword = await submitPassword(owner, ownerPage, victim.email, victim.password);
  t.not(afterPassword.response.status, 429, `the owner's remembered device is not blocked: ${describe(afterPassword)}`);
  if (afterPassword.response.status === 429) return;
  const done = await completeSignIn(owner, afterPassword, victim).catch((error: Error) => error);
  t.truthy(!(done instanceof Error) && codeOf(done), `the owner signs in: ${done instanceof Error ? done.message : describe(done)}`);
});

test('C35: repeated wrong second factors are throttled, also when spread over new sign-ins (TOTP and recovery codes)', async (t) => {
  t.timeout(180_000);
  const user = await userWithTotp(fixture);
  const ip = uniqueIp();
  let browser = fixture.browser(ip);
  let step: Step = await passwordStepDone(fixture, browser, user);
  let failures = 0;
  let throttled: Step | undefined;
  // Two wrong answers per sign-in, then a new sign-in (the password step is passed each time).
  while (failures < MAX_SECOND_FACTOR_FAILURES) {
    if (!isSecondFactorStep(step)) {
      if (step.response.status === 429) throttled = step;
      else t.fail(`expected the second-factor page, got ${describe(step)}`);
      break;
    }
    const answer = failures % 2 === 0
      ? await submitTotp(browser, step, await user.totp.wrongCode())
      : await submitRecoveryCode(browser, step, `${randomBytes(5).toString('hex')}`);
    if (answer.response.status === 429) {
      throttled = answer;
      break;
    }
    t.is(answer.response.status, 401, `wrong second factor ${failures + 1}: ${describe(answer)}`);
    t.is(codeOf(answer), undefined);
    failures++;
    step = answer;
    if (failures % 2 === 0) {
      browser = fixture.browser(ip);
      step = await passwordStepDone(fixture, browser, user);
    }
  }
  if (!throttled) {
    t.fail(`no 429 after ${failures} wrong second factors`);
    return;
  }
  t.log(`429 after ${failures} wrong second factors`);
  assertThrottled(t, throttled, 'wrong second factors', ACCOUNT_BLOCK_MAX_SECONDS);

  // While blocked, the right code is refused as well, and the browser is not signed in.
  if (isSecondFactorStep(throttled)) {
    const right = await submitTotp(browser, throttled, await user.totp.freshCode());
    assertThrottled(t, right, 'the right code while blocked', ACCOUNT_BLOCK_MAX_SECONDS);
  }
  await assertNotSignedIn(t, fixture, browser, 'after the blocked second factor');
});

test('C35: a browser where the owner signed in before (no factor, no remembered device) still signs in while the account is blocked for everyone else', async (t) => {
  t.timeout(180_000);
  const victim = await newUser(fixture);
  const ownerIp = uniqueIp();
  const before = fixture.browser(ownerIp);
  await signInForCode(fixture, before, victim);

  const attacker = fixture.browser();
  const page = await loginPage(attacker);
  const { throttled } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_WIDE, () => {
    attacker.ip = uniqueIp();
    return submitPassword(attacker, page, victim.email, wrongPassword());
  }, 'wrong passwords for one account from many IPs');
  if (!throttled) return;
  const stranger = fixture.browser();
  assertThrottled(t, await submitPassword(stranger, await loginPage(stranger), victim.email, victim.password), 'the right password from a new browser', ACCOUNT_BLOCK_MAX_SECONDS);

  // The owner's browser, signed out: only its signed known-browser cookie (and signature) kept.
  const owner = fixture.browser(ownerIp);
  for (const [name, value] of before.cookies) if (name.includes('latchkey_known')) owner.cookies.set(name, value);
  t.true([...owner.cookies.keys()].some((name) => name.includes('latchkey_known')), 'the sign-in set a known-browser cookie');
  const done = await completeSignIn(owner, await loginPage(owner), victim).catch((error: Error) => error);
  t.truthy(!(done instanceof Error) && codeOf(done), `the owner signs in: ${done instanceof Error ? done.message : describe(done)}`);

  // A forged known-browser cookie (no valid signature) does not lift the block.
  const forger = fixture.browser();
  for (const [name, value] of before.cookies) if (name.includes('latchkey_known') && !name.endsWith('.sig')) forger.cookies.set(name, value);
  assertThrottled(t, await submitPassword(forger, await loginPage(forger), victim.email, victim.password), 'a known-browser cookie without its signature', ACCOUNT_BLOCK_MAX_SECONDS);
});

test('C35: X-Forwarded-For entries the client adds before the proxy\'s own do not choose the counted IP', async (t) => {
  const victim = await newUser(fixture);
  const attacker = fixture.browser();
  const realIp = attacker.ip;
  const page = await loginPage(attacker);
  const { throttled } = await attemptUntilThrottled(t, MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP, () => {
    // A fresh forged address each time, then the address the proxy appended.
    attacker.ip = `${uniqueIp()}, ${realIp}`;
    return submitPassword(attacker, page, victim.email, wrongPassword());
  }, 'wrong passwords with forged X-Forwarded-For prefixes');
  if (throttled) assertThrottled(t, throttled, 'forged prefixes', ACCOUNT_BLOCK_MAX_SECONDS);
});
