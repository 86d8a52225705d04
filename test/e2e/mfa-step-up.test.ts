// needs: postgres redis chromium
// Step-up in real Chromium: a browser whose session is password-only (the
// user had no factor when it signed in) meets an app that asks for more
// (acr_values=urn:latchkey:acr:mfa, or an exceeded max_age) after the user added an
// authenticator app on /account: the browser goes straight to the
// second-factor step, no password, and the ID token has acr mfa.
//
// The authenticator app is added on /account in another browser: adding it
// makes that browser's own session two-factor, which would leave nothing to
// step up.
import test, { type ExecutionContext } from 'ava';
import { authorize, finishAuthorization, nextTotp, type AuthorizationParameters, type Page, type RelyingParty } from '../helpers/chromium.ts';
import {
  ACR_MFA, ACR_PWD, enrolTotp, expectSecondFactor, passwordStep, startMfaSuite, submitTotp, type MfaSuite, type Shot,
} from './mfa-support.ts';
import type { TestUser } from './support.ts';

let suite: MfaSuite;

test.before(async () => {
  suite = await startMfaSuite('mfa-step-up');
});

test.after.always(async () => {
  await suite?.stop();
});

/** `page` signs in with the password while the user has no factor (acr pwd); then the user adds an authenticator app on /account. */
async function passwordSessionThenTotp(page: Page, rp: RelyingParty, user: TestUser, shot: Shot) {
  const pending = await authorize(page, rp);
  await passwordStep(page, user, shot);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  const { secret } = await enrolTotp(suite, rp, user, shot);
  return { claims, secret };
}

/**
 * An authorization request that must step up: the second-factor page comes
 * straight away (no password field), the TOTP code finishes it, and the ID
 * token says acr mfa with otp and mfa in amr. Returns its claims.
 */
async function stepUpWithTotp(t: ExecutionContext, page: Page, rp: RelyingParty, user: TestUser, secret: string, shot: Shot, parameters: AuthorizationParameters, screenshot: string) {
  const pending = await authorize(page, rp, parameters);
  await expectSecondFactor(page, shot, screenshot);
  t.is(await page.locator('input[name="password"]').count(), 0, 'no password asked again');
  await submitTotp(page, await nextTotp(secret));
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.true(claims.amr!.includes('otp'));
  t.true(claims.amr!.includes('mfa'));
  return claims;
}

test('acr_values=urn:latchkey:acr:mfa on a password-only session: second-factor step only, then acr mfa', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('acr-values');
  const user = await suite.user('step-up');
  const rp = await suite.relyingParty('Step-up app');
  const page = await suite.page(t);
  const { claims: before, secret } = await passwordSessionThenTotp(page, rp, user, shot);
  t.is(before.acr, ACR_PWD);
  t.deepEqual(before.amr, ['pwd']);

  await stepUpWithTotp(t, page, rp, user, secret, shot, { acr_values: ACR_MFA }, 'step-up-second-factor');

  // The session is now two-factor: asking for mfa again goes straight back.
  const later = await authorize(page, rp, { acr_values: ACR_MFA });
  const { claims: again } = await finishAuthorization(page, rp, later);
  t.is(again.acr, ACR_MFA);
});

// max_age=0 is prompt=login (OIDC Core 3.1.2.1): a full sign-in, password
// included. A max_age the session has outlived asks for the second factor only.
test('max_age exceeded on a session of a user with a factor: second-factor step only', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('max-age');
  const user = await suite.user('max-age');
  const rp = await suite.relyingParty('Max age app');
  const page = await suite.page(t);
  const { secret } = await passwordSessionThenTotp(page, rp, user, shot);

  await page.waitForTimeout(2_100);
  // finishAuthorization passes maxAge to openid-client, which checks auth_time.
  const claims = await stepUpWithTotp(t, page, rp, user, secret, shot, { max_age: 1 }, 'max-age-second-factor');
  t.is(typeof claims.auth_time, 'number');
  t.true(Math.abs(claims.auth_time! - Date.now() / 1000) < 60, 'auth_time is the second-factor time');
});
