// needs: postgres redis chromium
// "Remember this device" in real Chromium: password + TOTP with the box
// ticked, then the next sign-in (prompt=login, same browser) asks only for the
// password (amr pwd mfa, acr mfa). The account page lists the device and can
// forget it; a client created with --no-trusted-devices always asks.
import test from 'ava';
import { authorize, describePage, expectOn, finishAuthorization, nextTotp, type Page, type RelyingParty } from '../helpers/chromium.ts';
import {
  ACR_MFA, enrolTotp, openAccount, passwordStep, reauthenticateIfAsked, SECOND_FACTOR_FORM,
  startMfaSuite, submitTotp, type MfaSuite, type Reauth, type Shot, signInUpToSecondFactor,
} from './mfa-support.ts';
import type { TestUser } from './support.ts';

let suite: MfaSuite;

test.before(async () => {
  suite = await startMfaSuite('mfa-trusted-device');
});

test.after.always(async () => {
  await suite?.stop();
});

const sorted = (values: string[] | undefined) => [...(values ?? [])].sort();

/** Password, second factor with TOTP (ticking "Remember this device" when asked), back at the client. */
async function signInWithTotp(page: Page, rp: RelyingParty, user: TestUser, secret: string, shot: Shot, options: { remember?: boolean; prompt?: string } = {}) {
  const pending = await signInUpToSecondFactor(page, rp, user, shot, { parameters: options.prompt ? { prompt: options.prompt } : {} });
  await submitTotp(page, await nextTotp(secret), { rememberDevice: options.remember });
  return finishAuthorization(page, rp, pending, { shot });
}

/** prompt=login: the password; the second-factor step must not show up. */
async function signInWithPasswordOnly(page: Page, rp: RelyingParty, user: TestUser, shot: Shot) {
  const pending = await authorize(page, rp, { prompt: 'login' });
  await passwordStep(page, user, shot);
  const where = await Promise.race([
    page.waitForURL((url) => `${url.origin}${url.pathname}` === rp.redirectUri, { timeout: 15_000 }).then(() => 'client'),
    page.locator(SECOND_FACTOR_FORM).waitFor({ state: 'visible', timeout: 15_000 }).then(() => 'second-factor'),
  ]).catch(() => 'elsewhere');
  if (where === 'second-factor') throw new Error(`the remembered device still got the second-factor step:\n${await describePage(page)}`);
  return finishAuthorization(page, rp, pending, { shot });
}

/** Account page: forget every remembered device ("Forget"), re-authenticating when asked. */
async function forgetDevices(tab: Page, reauth: Reauth, shot: Shot) {
  const account = `${suite.server.issuer}/account`;
  for (let round = 0; round < 3; round++) {
    const devices = tab.locator('#devices li.device');
    if (await devices.count() === 0) return;
    await devices.first().locator('form button[type="submit"], form button:not([type])').first().click();
    await tab.waitForLoadState();
    await tab.locator(`#password-form, ${SECOND_FACTOR_FORM}, form[action$="/login"]`).first().waitFor({ state: 'visible' }).catch(() => {});
    if (await reauthenticateIfAsked(tab, reauth, shot)) await tab.goto(account);
    await expectOn(tab, '#password-form', 'the account page after "Forget"');
  }
  throw new Error(`the device is still listed after "Forget":\n${await describePage(tab)}`);
}

test('remembered device skips the second factor until it is forgotten on /account', async (t) => {
  t.timeout(240_000);
  const shot = suite.shots('remember-forget');
  const user = await suite.user('trusted');
  const rp = await suite.relyingParty('Trusted device app');
  const { secret } = await enrolTotp(suite, rp, user, shot);
  const page = await suite.page(t);

  // 1. Password + TOTP, "Remember this device" ticked.
  const pending = await signInUpToSecondFactor(page, rp, user, shot);
  t.is(await page.locator(`${SECOND_FACTOR_FORM} input[name="remember_device"][type="checkbox"]`).count(), 1, 'the option is offered');
  t.regex(await page.locator(`${SECOND_FACTOR_FORM}`).innerText(), /Remember this device/);
  await submitTotp(page, await nextTotp(secret), { rememberDevice: true });
  const first = await finishAuthorization(page, rp, pending, { shot });
  t.is(first.claims.acr, ACR_MFA);
  t.deepEqual(sorted(first.claims.amr), ['mfa', 'otp', 'pwd']);
  const cookie = (await page.context().cookies(suite.server.issuer)).find((c) => c.name === 'latchkey_device');
  t.truthy(cookie, 'the latchkey_device cookie is set');
  t.true(cookie!.httpOnly);
  t.is(cookie!.sameSite, 'Lax');
  t.is(cookie!.path, '/');

  // 2. prompt=login in the same browser: the password is enough.
  const second = await signInWithPasswordOnly(page, rp, user, shot);
  t.is(second.claims.sub, user.id);
  t.is(second.claims.acr, ACR_MFA);
  t.deepEqual(sorted(second.claims.amr), ['mfa', 'pwd']);

  // 3. The account page lists the device; forget it.
  const reauth = { user, secret };
  const tab = await openAccount(page, suite.server.issuer, reauth, shot);
  t.is(await tab.locator('#devices li.device').count(), 1);
  t.regex(await tab.locator('#devices li.device').first().innerText(), /Forget/);
  await forgetDevices(tab, reauth, shot);
  t.is(await tab.locator('#devices li.device').count(), 0);
  await shot(tab, 'account-no-devices');
  await tab.close();

  // 4. The next sign-in asks for the second factor again.
  const third = await signInWithTotp(page, rp, user, secret, shot, { prompt: 'login' });
  t.is(third.claims.acr, ACR_MFA);
  t.deepEqual(sorted(third.claims.amr), ['mfa', 'otp', 'pwd']);
});

test('a client created with --no-trusted-devices asks for the second factor on a remembered device', async (t) => {
  t.timeout(240_000);
  const shot = suite.shots('no-trusted-devices');
  const user = await suite.user('strict');
  const rp = await suite.relyingParty('Remembering app');
  const strict = await suite.relyingParty('Strict app', { extra: ['--no-trusted-devices'] });
  const { secret } = await enrolTotp(suite, rp, user, shot);
  const page = await suite.page(t);

  const remembered = await signInWithTotp(page, rp, user, secret, shot, { remember: true });
  t.deepEqual(sorted(remembered.claims.amr), ['mfa', 'otp', 'pwd']);

  // The strict client: password, then the second factor anyway, without the option to remember.
  const pending = await signInUpToSecondFactor(page, strict, user, shot, { parameters: { prompt: 'login' }, screenshot: 'strict-second-factor' });
  t.is(await page.locator(`${SECOND_FACTOR_FORM} input[name="remember_device"]`).count(), 0, 'no "Remember this device" for this client');
  await submitTotp(page, await nextTotp(secret));
  const { claims } = await finishAuthorization(page, strict, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(sorted(claims.amr), ['mfa', 'otp', 'pwd']);

  // The device is still remembered for the other client.
  const other = await signInWithPasswordOnly(page, rp, user, shot);
  t.is(other.claims.acr, ACR_MFA);
  t.deepEqual(sorted(other.claims.amr), ['mfa', 'pwd']);
});
