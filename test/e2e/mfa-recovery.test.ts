// needs: postgres redis chromium
// Recovery codes as the second factor in real Chromium: one code signs in
// once (the page says 9 are left), the same code again is refused; Enter in
// the recovery-code field uses the code typed there.
import test from 'ava';
import { finishAuthorization, type Page } from '../helpers/chromium.ts';
import {
  ACR_MFA, alertText, clickContinue, enrolTotp, expectSecondFactor, recoveryUsedNotice, SECOND_FACTOR_FORM,
  startMfaSuite, submitRecoveryCode, type MfaSuite, signInUpToSecondFactor,
} from './mfa-support.ts';

let suite: MfaSuite;

test.before(async () => {
  suite = await startMfaSuite('mfa-recovery');
});

test.after.always(async () => {
  await suite?.stop();
});

test('a recovery code signs in once (9 left); the same code again is refused', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('recovery-code');
  const user = await suite.user('recovery');
  const rp = await suite.relyingParty('Recovery app');
  const { recoveryCodes } = await enrolTotp(suite, rp, user, shot);
  t.is(recoveryCodes.length, 10);
  const [code] = recoveryCodes;

  // Lost phone: password, then a recovery code instead of the TOTP code.
  const page = await suite.page(t);
  const pending = await signInUpToSecondFactor(page, rp, user, shot);
  await submitRecoveryCode(page, code);
  t.regex(await recoveryUsedNotice(page, shot), /\b9 recovery codes left\b/);
  await clickContinue(page);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr!].sort(), ['mfa', 'otp', 'pwd']);

  // Another browser tries the same code: refused, still on the step; another code works.
  const again = await suite.page(t);
  const retry = await signInUpToSecondFactor(again, rp, user, shot, { screenshot: 'second-factor-again' });
  t.is(await submitRecoveryCode(again, code), 401);
  await expectSecondFactor(again, shot, 'second-factor-refused');
  t.regex(await alertText(again), /not valid|already used/i);
  t.regex(new URL(again.url()).pathname, /^\/interaction\//);
  t.is(await again.locator(`${SECOND_FACTOR_FORM} input[name="recovery_code"]`).count(), 1);

  // Any case, dashes and spaces are ignored: the second code typed loosely still works (8 left).
  await submitRecoveryCode(again, ` ${recoveryCodes[1].toLowerCase()} `);
  t.regex(await recoveryUsedNotice(again, shot), /\b8 recovery codes left\b/);
  await clickContinue(again);
  const second = await finishAuthorization(again, rp, retry, { shot });
  t.is(second.claims.acr, ACR_MFA);
  t.deepEqual([...second.claims.amr!].sort(), ['mfa', 'otp', 'pwd']);
});

/** Types into a field of the second-factor form and presses Enter there; returns the POST's status. */
async function typeAndPressEnter(page: Page, field: string, text: string): Promise<number> {
  await page.$$eval(`${SECOND_FACTOR_FORM} details`, (elements) => elements.forEach((d) => { (d as HTMLDetailsElement).open = true; }));
  await page.fill(`${SECOND_FACTOR_FORM} input[name="${field}"]`, text);
  const response = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/second-factor'));
  await page.press(`${SECOND_FACTOR_FORM} input[name="${field}"]`, 'Enter');
  return (await response).status();
}

// Enter in a text field submits the form as if its first button ("Verify")
// were pressed: the recovery code must still be used as a recovery code.
test('Enter in the recovery-code field uses the recovery code; with both codes typed nothing is tried', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('recovery-enter');
  const user = await suite.user('recovery-enter');
  const rp = await suite.relyingParty('Recovery Enter app');
  const { recoveryCodes } = await enrolTotp(suite, rp, user, shot);

  const page = await suite.page(t);
  const pending = await signInUpToSecondFactor(page, rp, user, shot);
  t.true((await typeAndPressEnter(page, 'recovery_code', recoveryCodes[0])) < 400, 'the recovery code is accepted');
  t.regex(await recoveryUsedNotice(page, shot), /\b9 recovery codes left\b/);
  await clickContinue(page);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr!].sort(), ['mfa', 'otp', 'pwd']);

  // Both fields filled, Enter in the recovery field: which one was meant is asked, both are kept.
  const again = await suite.page(t);
  const retry = await signInUpToSecondFactor(again, rp, user, shot, { screenshot: 'second-factor-again' });
  await again.fill(`${SECOND_FACTOR_FORM} input[name="code"]`, '123456');
  t.is(await typeAndPressEnter(again, 'recovery_code', recoveryCodes[1]), 400);
  await expectSecondFactor(again, shot, 'second-factor-both');
  t.regex(await alertText(again), /either/i);
  t.is(await again.inputValue(`${SECOND_FACTOR_FORM} input[name="code"]`), '123456', 'the app code is kept');
  t.is(await again.inputValue(`${SECOND_FACTOR_FORM} input[name="recovery_code"]`), recoveryCodes[1], 'the recovery code is kept');
  t.true(await again.locator(`${SECOND_FACTOR_FORM} input[name="recovery_code"]`).isVisible(), 'the recovery part is open');

  // Without the app code, Enter uses the recovery code (it was not used up by the question: 8 left).
  await again.fill(`${SECOND_FACTOR_FORM} input[name="code"]`, '');
  t.true((await typeAndPressEnter(again, 'recovery_code', recoveryCodes[1])) < 400);
  t.regex(await recoveryUsedNotice(again, shot), /\b8 recovery codes left\b/);
  await clickContinue(again);
  const second = await finishAuthorization(again, rp, retry, { shot });
  t.is(second.claims.acr, ACR_MFA);
});
