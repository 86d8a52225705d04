// needs: postgres redis chromium
// Authenticator app (TOTP) in real Chromium: added on the account page after
// a password sign-in (10 recovery codes shown), then a fresh browser signs in
// to a client with the password and a code -> acr mfa, amr pwd otp mfa.
import test from 'ava';
import { authorize, expectOn, finishAuthorization, nextTotp, waitForCallback, wrongTotp } from '../helpers/chromium.ts';
import {
  ACCOUNT_PAGE, ACR_MFA, ACR_PWD, addTotpOnAccount, alertText, enrolTotp, expectSecondFactor, listedFactors, LOGIN_FORM, openAccount, passwordStep,
  readRecoveryCodes, readTotpSecret, SECOND_FACTOR_FORM, startMfaSuite, submitTotp, type MfaSuite, signInUpToSecondFactor,
} from './mfa-support.ts';

let suite: MfaSuite;

test.before(async () => {
  suite = await startMfaSuite('mfa-totp');
});

test.after.always(async () => {
  await suite?.stop();
});

test('add an authenticator app on /account, then sign in with password + TOTP', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('enrol-and-sign-in');
  const user = await suite.user('totp');
  const rp = await suite.relyingParty('TOTP app');

  // 1. Password only (no factor yet): acr pwd, amr pwd.
  const page = await suite.page(t);
  const first = await authorize(page, rp);
  await passwordStep(page, user, shot);
  const before = await finishAuthorization(page, rp, first, { shot });
  t.is(before.claims.sub, user.id);
  t.is(before.claims.acr, ACR_PWD);
  t.deepEqual(before.claims.amr, ['pwd']);

  // 2. /account in a new tab (the same session): add an authenticator app.
  const tab = await openAccount(page, suite.server.issuer, { user }, shot);
  const { secret, recoveryCodes } = await addTotpOnAccount(tab, suite.server.issuer, 'Phone', { user }, shot);
  t.regex(secret, /^[A-Z2-7]{16,}=*$/, 'a Base32 secret');
  t.is(recoveryCodes.length, 10);
  t.is(new Set(recoveryCodes).size, 10, 'ten different codes');
  const factors = await listedFactors(tab);
  t.is(factors.length, 1);
  t.regex(factors[0], /Phone/);

  // 3. A fresh browser, a third-party client: password, then the code, then consent.
  const thirdParty = await suite.relyingParty('Third-party TOTP app', { firstParty: false });
  const fresh = await suite.page(t);
  const pending = await signInUpToSecondFactor(fresh, thirdParty, user, shot);
  t.is(await fresh.locator('input[name="password"]').count(), 0, 'no password field on the second-factor step');
  t.regex(await fresh.locator('h1').innerText(), /Two-step verification/);
  await submitTotp(fresh, await nextTotp(secret));
  const { claims, consentShown } = await finishAuthorization(fresh, thirdParty, pending, { shot });
  t.true(consentShown, 'the consent page comes after the second factor');
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr!].sort(), ['mfa', 'otp', 'pwd']);
});

test('a wrong code shows an error and stays on the second-factor step; the right one then signs in', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('wrong-code');
  const user = await suite.user('totp-wrong');
  const rp = await suite.relyingParty('TOTP wrong code app');
  const { secret } = await enrolTotp(suite, rp, user, shot);

  const page = await suite.page(t);
  const pending = await signInUpToSecondFactor(page, rp, user, shot);
  t.is(await submitTotp(page, await wrongTotp(secret)), 401);
  await expectSecondFactor(page, shot, 'second-factor-error');
  t.regex(await alertText(page), /not correct|already used/i);
  t.regex(new URL(page.url()).pathname, /^\/interaction\//, 'still in the sign-in, not back at the client');
  t.is(await page.locator(`${SECOND_FACTOR_FORM} input[name="code"]`).count(), 1);

  await submitTotp(page, await nextTotp(secret));
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr!].sort(), ['mfa', 'otp', 'pwd']);
});

// Adding the factor proved it: the session counts it like a sign-in with it.
// Asking for it again would also refuse the code just typed (single use)
// until the next 30 s step.
test('right after adding the first authenticator app, neither the account page nor an app asking for MFA asks for it again', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('added-counts');
  const user = await suite.user('totp-added');
  const rp = await suite.relyingParty('TOTP added app');
  const page = await suite.page(t);
  const first = await authorize(page, rp);
  await passwordStep(page, user, shot);
  await finishAuthorization(page, rp, first, { shot });

  const tab = await openAccount(page, suite.server.issuer, { user }, shot);
  await tab.click('#add-totp');
  const secret = await readTotpSecret(tab);
  await tab.fill('form[action$="/account/totp"] input[name="code"]', await nextTotp(secret));
  await tab.click('form[action$="/account/totp"] button[type="submit"]');
  t.is((await readRecoveryCodes(tab, shot)).length, 10);

  const visited: string[] = [];
  tab.on('framenavigated', (frame) => visited.push(new URL(frame.url()).pathname));
  await tab.click('a[href$="/account"]');
  await tab.locator(`${ACCOUNT_PAGE}, ${SECOND_FACTOR_FORM}`).first().waitFor({ state: 'visible' });
  await shot(tab, 'back-on-account');
  t.is(await tab.locator(SECOND_FACTOR_FORM).count(), 0, '"Back to your account" does not ask for the second factor');
  t.is(new URL(tab.url()).pathname, '/account');
  t.deepEqual(visited.filter((path) => path.startsWith('/interaction/') || path === '/auth'), [], 'no sign-in on the way');
  t.is((await listedFactors(tab)).length, 1);

  // An app asking for MFA gets it from this session without a sign-in page.
  const pending = await authorize(page, rp, { acr_values: ACR_MFA });
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr!].sort(), ['mfa', 'otp', 'pwd']);
});

test('"Use another account" on the second-factor step: an app hears access_denied; the account page starts again at the password', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('other-account');
  const user = await suite.user('totp-other');
  const other = await suite.user('totp-other-b');
  const rp = await suite.relyingParty('Other account app');
  await enrolTotp(suite, rp, user, shot);

  const page = await suite.page(t);
  await signInUpToSecondFactor(page, rp, user, shot);
  await page.click('form[action$="/abort"] button[type="submit"]');
  const callback = await waitForCallback(page, rp);
  t.is(callback.searchParams.get('error'), 'access_denied');

  // The account page: password, second factor, "Use another account", the other user's password.
  const account = await suite.page(t);
  await account.goto(`${suite.server.issuer}/account`);
  await passwordStep(account, user, shot);
  await expectSecondFactor(account, shot, 'account-second-factor');
  await account.click('form[action$="/abort"] button[type="submit"]');
  await expectOn(account, `${LOGIN_FORM} input[name="password"]`, 'the password step of a new sign-in');
  await shot(account, 'password-again');
  await passwordStep(account, other, shot);
  await expectOn(account, ACCOUNT_PAGE, 'the account page of the other user');
  t.regex(await account.locator('.lead').first().innerText(), new RegExp(other.email.replace(/[.+]/g, '\\$&')));
});
