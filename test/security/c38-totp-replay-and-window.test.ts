// needs: postgres redis
// C38 TOTP replay and window. TOTP is enrolled through /account/totp (the
// secret read from #totp-secret, codes computed with otplib like an
// authenticator app would). A code accepted once is refused the next time
// (also in another sign-in, and the code that confirmed the enrolment);
// two sign-ins racing with one code get in at most once; codes for 60 s ago
// and 60 s ahead (outside ±1 step) are refused; guessing is throttled (429,
// and then even the right code is refused). Every refusal is a 401 on the
// second-factor page and leaves the browser not signed in; a control with a
// fresh code in the same sign-in shows that the refusal was about the code.
import test from 'ava';
import {
  ACCOUNT_BLOCK_MAX_SECONDS, MAX_SECOND_FACTOR_FAILURES, assertThrottled, attemptUntilThrottled, codeOf, describe,
  isSecondFactorStep, newUser, startMfaFixture, type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { awayFromStepEdge, totpCodeForStep, waitForStep, type TotpDevice } from './_support-mfa-totp.ts';
import {
  accountBrowser, assertNotSignedIn, completeSignIn, enrolTotp, passwordStepDone, submitTotp, userWithTotp,
} from './_support-mfa-flow.ts';

let fixture: MfaFixture;

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

type TotpUser = MfaUser & { totp: TotpDevice };

/** A new browser past the password step of `user`, on the second-factor page. */
async function atSecondFactor(user: MfaUser): Promise<{ browser: MfaBrowser; step: Step }> {
  const browser = fixture.browser();
  const step = await passwordStepDone(fixture, browser, user);
  if (!isSecondFactorStep(step)) throw new Error(`expected the second-factor page after the password, got ${describe(step)}`);
  return { browser, step };
}

/** A refused code: 401, the second-factor page again, no code for the client. */
function assertRefused(t: import('ava').ExecutionContext, step: Step, label: string) {
  t.is(step.response.status, 401, `${label}: ${describe(step)}`);
  t.true(isSecondFactorStep(step), `${label}: the second-factor page again (${describe(step)})`);
  t.is(codeOf(step), undefined, `${label}: no code`);
}

/** Control: a fresh code in the same sign-in is accepted and the flow reaches the client with a code. */
async function assertFreshCodeAccepted(t: import('ava').ExecutionContext, browser: MfaBrowser, step: Step, user: TotpUser, label: string) {
  const answer = await submitTotp(browser, step, await user.totp.freshCode());
  t.not(answer.response.status, 401, `${label}: a fresh code is accepted (${describe(answer)})`);
  const done = await completeSignIn(browser, answer, user).catch((error: Error) => error);
  t.truthy(!(done instanceof Error) && codeOf(done), `${label}: the sign-in then completes: ${done instanceof Error ? done.message : describe(done)}`);
}

test('C38: a code accepted once is refused (401) when used again in a second sign-in', async (t) => {
  t.timeout(150_000);
  const user = await userWithTotp(fixture);

  const first = await atSecondFactor(user);
  const code = await user.totp.freshCode();
  const accepted = await submitTotp(first.browser, first.step, code);
  t.not(accepted.response.status, 401, `the first use of the code is accepted (${describe(accepted)})`);
  const done = await completeSignIn(first.browser, accepted, user);
  t.truthy(codeOf(done), `the first sign-in reaches the client: ${describe(done)}`);

  // Seconds later, well inside the code's validity window.
  const second = await atSecondFactor(user);
  const replay = await submitTotp(second.browser, second.step, code);
  assertRefused(t, replay, 'the same code again');
  await assertNotSignedIn(t, fixture, second.browser, 'after the replayed code');
  await assertFreshCodeAccepted(t, second.browser, replay, user, 'control');
});

test('C38: the code that confirmed the enrolment cannot be used to sign in', async (t) => {
  t.timeout(150_000);
  const user = await newUser(fixture);
  const { browser: account } = await accountBrowser(fixture, user);
  const { device } = await enrolTotp(account, user);
  const enrolmentCode = await totpCodeForStep(device.secret, device.lastStep);

  const { browser, step } = await atSecondFactor(user);
  const reuse = await submitTotp(browser, step, enrolmentCode);
  assertRefused(t, reuse, 'the enrolment code at sign-in');
  await assertNotSignedIn(t, fixture, browser, 'after the enrolment code');
  await assertFreshCodeAccepted(t, browser, reuse, user as TotpUser, 'control');
});

test('C38: one code submitted by three sign-ins at once is accepted at most once', async (t) => {
  t.timeout(150_000);
  const user = await userWithTotp(fixture);
  const racers = await Promise.all([atSecondFactor(user), atSecondFactor(user), atSecondFactor(user)]);
  const code = await user.totp.freshCode();
  const answers = await Promise.all(racers.map(({ browser, step }) => submitTotp(browser, step, code)));
  const accepted = answers.filter((answer) => answer.response.status !== 401);
  t.is(accepted.length, 1, `exactly one of three concurrent uses is accepted: ${answers.map(describe).join('; ')}`);
  for (const answer of accepted) t.true(answer.response.status < 400, `the accepted one is not an error: ${describe(answer)}`);
  for (const [index, answer] of answers.entries()) {
    if (answer.response.status === 401) await assertNotSignedIn(t, fixture, racers[index].browser, `racer ${index + 1} (refused)`);
  }
});

test('C38: codes for 60 s ago and 60 s ahead (outside ±1 step) are refused', async (t) => {
  t.timeout(240_000);
  const user = await userWithTotp(fixture);
  // The server refuses any step at or before the last one it accepted (the
  // enrolment's): wait until "60 s ago" is after it, so only the window can refuse it.
  await waitForStep(user.totp.lastStep + 3);
  const { browser, step } = await atSecondFactor(user);
  await awayFromStepEdge(4);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const inWindow = new Set(await Promise.all([-30, 0, 30].map((offset) => user.totp.codeAtOffset(offset))));
  let current = step;
  for (const offset of [-60, 60]) {
    const code = await user.totp.codeAtOffset(offset);
    if (inWindow.has(code)) {
      t.log(`the code for ${offset} s equals a code inside the window (1 in ~300,000); not checked`);
      continue;
    }
    const answer = await submitTotp(browser, current, code);
    assertRefused(t, answer, `the code for ${offset > 0 ? '+' : ''}${offset} s (step ${Math.floor((nowSeconds + offset) / 30)})`);
    if (isSecondFactorStep(answer)) current = answer;
  }
  await assertNotSignedIn(t, fixture, browser, 'after the out-of-window codes');
  await assertFreshCodeAccepted(t, browser, current, user, 'control');
});

test('C38: guessing codes is throttled: 429 with Retry-After, and then the right code is refused too', async (t) => {
  t.timeout(150_000);
  const user = await userWithTotp(fixture);
  const { browser, step } = await atSecondFactor(user);
  let current = step;
  const { throttled, attempts } = await attemptUntilThrottled(t, MAX_SECOND_FACTOR_FAILURES, async () => {
    const answer = await submitTotp(browser, current, await user.totp.wrongCode());
    if (isSecondFactorStep(answer)) current = answer;
    return answer;
  }, 'wrong TOTP codes');
  if (!throttled) return;
  t.log(`429 after ${attempts} wrong codes`);
  assertThrottled(t, throttled, 'guessing', ACCOUNT_BLOCK_MAX_SECONDS);
  if (isSecondFactorStep(throttled)) current = throttled;

  const right = await submitTotp(browser, current, await user.totp.freshCode());
  assertThrottled(t, right, 'the right code while blocked', ACCOUNT_BLOCK_MAX_SECONDS);
  await assertNotSignedIn(t, fixture, browser, 'after guessing');
});
