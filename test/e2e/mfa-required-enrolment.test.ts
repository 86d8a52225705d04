// needs: postgres redis chromium
// Required MFA in real Chromium: with MFA_POLICY=required a user without a
// factor is taken from the password to the enrol step, adds an authenticator
// app (or a passkey), sees the recovery codes, continues, and gets acr mfa.
// With MFA_POLICY=optional the same happens for a user marked with
// `users require-mfa` and on a client created with `--require-mfa`.
import test, { type ExecutionContext } from 'ava';
import {
  addVirtualAuthenticator, authorize, expectOn, finishAuthorization, nextTotp, waitForCallback, type Page, type RelyingParty,
} from '../helpers/chromium.ts';
import {
  ACR_MFA, ACR_PWD, clickContinue, enrolTotpAtSignIn, passwordStep, readRecoveryCodes, startMfaSuite,
  submitTotp, type MfaSuite, type Shot, signInUpToSecondFactor,
} from './mfa-support.ts';
import type { TestUser } from './support.ts';

let required: MfaSuite;
let optional: MfaSuite;

test.before(async () => {
  [required, optional] = await Promise.all([
    startMfaSuite('mfa-required', { env: { MFA_POLICY: 'required' } }),
    startMfaSuite('mfa-optional', { env: { MFA_POLICY: 'optional' } }),
  ]);
});

test.after.always(async () => {
  await Promise.all([required?.stop(), optional?.stop()]);
});

const sorted = (values: string[] | undefined) => [...(values ?? [])].sort();

/** Password -> enrol step (authenticator app) -> recovery codes -> Continue -> back at the client. */
async function signInEnrollingTotp(t: ExecutionContext, page: Page, rp: RelyingParty, user: TestUser, shot: Shot) {
  const pending = await authorize(page, rp);
  await passwordStep(page, user, shot);
  await expectOn(page, '#totp-enrol', 'the enrol step (#totp-enrol)');
  t.is(await page.locator('h1').innerText(), 'Set up two-step verification');
  const secret = await enrolTotpAtSignIn(page, shot);
  const codes = await readRecoveryCodes(page, shot);
  t.is(codes.length, 10, 'ten recovery codes');
  await expectOn(page, '#download-codes', 'the download link (#download-codes)');
  await clickContinue(page);
  const result = await finishAuthorization(page, rp, pending, { shot });
  return { ...result, secret };
}

test('MFA_POLICY=required: a user without a factor enrols an authenticator app during sign-in', async (t) => {
  t.timeout(180_000);
  const shot = required.shots('enrol-totp');
  const user = await required.user('required');
  const rp = await required.relyingParty('Required app');
  const page = await required.page(t);

  const pending = await authorize(page, rp);
  await passwordStep(page, user, shot);
  await expectOn(page, '#totp-enrol', 'the enrol step (#totp-enrol)');
  await shot(page, 'enrol');
  t.is(await page.locator('h1').innerText(), 'Set up two-step verification');
  t.is(await page.locator('#totp-enrol input[name="name"]').inputValue(), 'Authenticator app');
  t.is(await page.locator('#webauthn-enrol #register-key').count(), 1, 'a security key can be added instead');

  // Not signed in yet: a silent request from another tab gets login_required.
  const silentTab = await page.context().newPage();
  await authorize(silentTab, rp, { prompt: 'none' });
  const silent = await waitForCallback(silentTab, rp);
  t.is(silent.searchParams.get('error'), 'login_required');
  await silentTab.close();

  await enrolTotpAtSignIn(page);
  const codes = await readRecoveryCodes(page, shot);
  t.is(codes.length, 10);
  await expectOn(page, '#download-codes', 'the download link (#download-codes)');
  await clickContinue(page);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(sorted(claims.amr), ['mfa', 'otp', 'pwd']);
});

test('MFA_POLICY=required: a user without a factor can enrol a passkey during sign-in instead', async (t) => {
  t.timeout(180_000);
  const shot = required.shots('enrol-passkey');
  const user = await required.user('required-key');
  const rp = await required.relyingParty('Required key app');
  const page = await required.page(t);

  const pending = await authorize(page, rp);
  await passwordStep(page, user, shot);
  await expectOn(page, '#webauthn-enrol #register-key', 'the enrol step\'s security key part (#register-key)');
  await shot(page, 'enrol');
  await addVirtualAuthenticator(page);
  if (await page.locator('#webauthn-enrol input[name="name"]').count()) await page.fill('#webauthn-enrol input[name="name"]', 'Built-in passkey');
  await page.click('#register-key');
  t.is((await readRecoveryCodes(page, shot)).length, 10);
  await clickContinue(page);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.true(claims.amr!.includes('pwd'));
  t.true(claims.amr!.includes('hwk') || claims.amr!.includes('swk'), `amr ${JSON.stringify(claims.amr)}`);
  t.true(claims.amr!.includes('mfa'));
});

test('MFA_POLICY=required: after enrolling, the next sign-in asks for the factor (not the enrol step)', async (t) => {
  t.timeout(180_000);
  const shot = required.shots('enrol-then-sign-in');
  const user = await required.user('required-again');
  const rp = await required.relyingParty('Required again app');
  const { secret, claims: enrolled } = await signInEnrollingTotp(t, await required.page(t), rp, user, shot);
  t.is(enrolled.acr, ACR_MFA);

  const page = await required.page(t);
  const pending = await signInUpToSecondFactor(page, rp, user, shot);
  t.is(await page.locator('#totp-enrol').count(), 0);
  await submitTotp(page, await nextTotp(secret));
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(sorted(claims.amr), ['mfa', 'otp', 'pwd']);
});

test('MFA_POLICY=optional: `users require-mfa` sends that user to the enrol step', async (t) => {
  t.timeout(180_000);
  const shot = optional.shots('user-require-mfa');
  const user = await optional.user('marked');
  const rp = await optional.relyingParty('Optional app');

  // Before: the password is enough.
  const before = await optional.page(t);
  const first = await authorize(before, rp);
  await passwordStep(before, user, shot);
  const { claims: pwdOnly } = await finishAuthorization(before, rp, first, { shot });
  t.is(pwdOnly.acr, ACR_PWD);
  t.deepEqual(pwdOnly.amr, ['pwd']);

  await optional.server.admin(['users', 'require-mfa', user.email]);
  const { claims } = await signInEnrollingTotp(t, await optional.page(t), rp, user, shot);
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(sorted(claims.amr), ['mfa', 'otp', 'pwd']);
});

test('MFA_POLICY=optional: a client created with --require-mfa sends a user without a factor to the enrol step', async (t) => {
  t.timeout(180_000);
  const shot = optional.shots('client-require-mfa');
  const user = await optional.user('client-required');
  const relaxed = await optional.relyingParty('Relaxed app');
  const strict = await optional.relyingParty('MFA-only app', { extra: ['--require-mfa'] });

  // The other client: the password is enough.
  const before = await optional.page(t);
  const first = await authorize(before, relaxed);
  await passwordStep(before, user, shot);
  t.is((await finishAuthorization(before, relaxed, first, { shot })).claims.acr, ACR_PWD);

  const { claims } = await signInEnrollingTotp(t, await optional.page(t), strict, user, shot);
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(sorted(claims.amr), ['mfa', 'otp', 'pwd']);
});
