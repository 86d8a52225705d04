// needs: postgres redis
// C40 MFA cannot be skipped, on /account: changing factors (or the password)
// needs a fresh second factor. The server runs with ACCOUNT_REAUTH_WINDOW=2s;
// once the last sign-in factor is older than that, removing a factor,
// adding a TOTP, regenerating recovery codes or changing the password is
// answered with a redirect to re-authenticate (max_age=1 -> the
// second-factor step) and changes nothing. After re-authenticating with the
// second factor the same change goes through (control). Adding the first
// factor is itself a fresh second factor: the session counts it at once.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { parseForm } from '../helpers/browser.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import {
  ACR_MFA, codeOf, describe, factorIdsOf, isConsentStep, isContinueStep, isPasswordStep, isSecondFactorStep, newUser, recoveryCodesOf,
  REDIRECT_URI, startMfaFixture, totpSecretOf, type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { sleep, TotpDevice } from './_support-mfa-totp.ts';
import {
  accountBrowser, accountOverview, approveConsent, assertReauthRedirect, completeSignIn, enrolSecurityKey, enrolTotp, jwtPayload,
  passwordStepDone, submitPassword, submitRecoveryCode, beginSignIn, tokenRequest,
} from './_support-mfa-flow.ts';

const WINDOW_SECONDS = 2;

let fixture: MfaFixture;

test.before(async () => {
  fixture = await startMfaFixture({ ACCOUNT_REAUTH_WINDOW: `${WINDOW_SECONDS}s` });
});
test.after.always(async () => {
  await fixture?.stop();
});

/**
 * Re-authenticates the /account browser through /account/reauth (whatever
 * sign-in pages it shows; the tests below check that it is the second
 * factor); returns the /account page it comes back to.
 */
async function reauthenticate(browser: MfaBrowser, user: MfaUser): Promise<Step> {
  // /account/reauth asks for max_age=1: a session that signed in (or added its
  // first factor) less than two whole seconds ago needs no sign-in yet.
  await sleep(2000);
  const start = await browser.follow('/account/reauth?next=/account');
  if (!isSecondFactorStep(start) && !isPasswordStep(start)) throw new Error(`/account/reauth should lead to a sign-in page, got ${describe(start)}`);
  const back = await completeSignIn(browser, start, user);
  return new URL(back.url).pathname === '/account' ? back : accountOverview(browser);
}

/**
 * A user who enrolled TOTP on /account and then re-authenticated with it
 * (a fresh second factor), with the /account browser, once that factor is
 * older than the window: only the time makes the session stale.
 */
async function staleAccountSession(): Promise<{ user: MfaUser; browser: MfaBrowser; recoveryCodes: string[] }> {
  const user = await newUser(fixture);
  const { browser } = await accountBrowser(fixture, user);
  const { recoveryCodes } = await enrolTotp(browser, user);
  await reauthenticate(browser, user);
  await sleep((WINDOW_SECONDS + 1) * 1000);
  return { user, browser, recoveryCodes };
}

const formOn = (page: Step, action: RegExp) => parseForm(page.html, action);

test('C40: removing a factor without a fresh second factor redirects to re-authentication and removes nothing; after it the removal works', async (t) => {
  t.timeout(150_000);
  const { user, browser } = await staleAccountSession();
  const page = await accountOverview(browser);
  const ids = factorIdsOf(page.html);
  t.is(ids.length, 1, `one factor listed on /account (${ids.join(', ')})`);

  const remove = formOn(page, /\/account\/factors\/[^/]+\/remove$/);
  const response = await browser.request(remove.action, { method: 'POST', form: remove.fields });
  const target = await assertReauthRedirect(t, fixture, response, 'POST /account/factors/:id/remove');
  t.deepEqual(factorIdsOf((await accountOverview(browser.clone())).html), ids, 'the factor is still there');
  if (!target) return;

  // Re-authentication needs the second factor: the password alone does not get the browser back ...
  let reauth = await browser.follow(target.toString());
  if (isPasswordStep(reauth)) {
    t.log('re-authentication asks for the password first (the contract: straight to the second-factor step)');
    reauth = await submitPassword(browser, reauth, user.email, user.password);
  }
  t.true(isSecondFactorStep(reauth), `re-authentication asks for the second factor: ${describe(reauth)}`);
  if (!isSecondFactorStep(reauth)) return;
  // ... and with it the browser is back on /account, where the removal now goes through.
  const back = await completeSignIn(browser, reauth, user);
  t.is(back.location, undefined);
  const again = new URL(back.url).pathname === '/account' ? back : await accountOverview(browser);
  const fresh = formOn(again, /\/account\/factors\/[^/]+\/remove$/);
  const removed = await browser.follow(fresh.action, { method: 'POST', form: fresh.fields });
  t.is(removed.response.status, 200, `removal after re-authentication: ${describe(removed)}`);
  t.deepEqual(factorIdsOf((await accountOverview(browser)).html), [], 'control: with a fresh second factor the factor is removed');
});

test('C40: changing the password, adding a TOTP or regenerating recovery codes without a fresh second factor redirects to re-authentication and changes nothing', async (t) => {
  t.timeout(150_000);
  const { user, browser, recoveryCodes } = await staleAccountSession();
  t.true(recoveryCodes.length > 0, 'the first factor brought recovery codes');
  const page = await accountOverview(browser);
  const factorsBefore = factorIdsOf(page.html);

  const newPassword = `Changed-${randomBytes(12).toString('base64url')}`;
  const password = formOn(page, /\/account\/password$/);
  await assertReauthRedirect(t, fixture, await browser.request(password.action, { method: 'POST', form: { ...password.fields, new_password: newPassword } }), 'POST /account/password');

  const codes = formOn(page, /\/account\/recovery-codes$/);
  await assertReauthRedirect(t, fixture, await browser.request(codes.action, { method: 'POST', form: codes.fields }), 'POST /account/recovery-codes');

  // Adding a TOTP: the set-up page itself may already send the browser to re-authenticate; if it
  // shows a secret, confirming it with a valid code must.
  const setup = await browser.request('/account/totp');
  if (setup.status === 200) {
    const html = await setup.text();
    const device = new TotpDevice(totpSecretOf(html));
    const add = parseForm(html, /\/account\/totp$/);
    await assertReauthRedirect(t, fixture, await browser.request(add.action, { method: 'POST', form: { ...add.fields, name: 'Second app', code: await device.freshCode() } }), 'POST /account/totp');
  } else {
    await assertReauthRedirect(t, fixture, setup, 'GET /account/totp');
  }
  t.deepEqual(factorIdsOf((await accountOverview(browser.clone())).html), factorsBefore, 'no factor was added');

  // The new password was not set ...
  const withNew = fixture.browser();
  const { step: login } = await beginSignIn(fixture, withNew);
  const refused = await submitPassword(withNew, login, user.email, newPassword);
  t.is(refused.response.status, 401, `the new password was not set: ${describe(refused)}`);
  // ... the old one still works, and the old recovery codes were not replaced.
  const withOld = fixture.browser();
  const second = await passwordStepDone(fixture, withOld, user);
  t.true(isSecondFactorStep(second), `the old password still leads to the second factor: ${describe(second)}`);
  if (!isSecondFactorStep(second)) return;
  const recovered = await submitRecoveryCode(withOld, second, recoveryCodes[0]);
  t.true(recovered.response.status < 400, `an original recovery code is still valid: ${describe(recovered)}`);
  t.true(isContinueStep(recovered) || /recovery codes? left/i.test(recovered.html), `the page says how many recovery codes are left: ${describe(recovered)}`);
  const done = await completeSignIn(withOld, recovered, user).catch((error: Error) => error);
  t.truthy(!(done instanceof Error) && codeOf(done), `the recovery-code sign-in completes: ${done instanceof Error ? done.message : describe(done)}`);
});

test('C40: control: right after a second factor the same change needs no re-authentication', async (t) => {
  t.timeout(150_000);
  const user = await newUser(fixture);
  const { browser } = await accountBrowser(fixture, user);
  await enrolTotp(browser, user);
  const page = await reauthenticate(browser, user);
  const regenerate = formOn(page, /\/account\/recovery-codes$/);
  const answer = await browser.follow(regenerate.action, { method: 'POST', form: regenerate.fields });
  t.is(answer.response.status, 200, `POST /account/recovery-codes right after a second factor: ${describe(answer)}`);
  t.is(recoveryCodesOf(answer.html).length, 10, 'ten new recovery codes');
});

test('C40: adding the first factor on /account counts as passing it: /account opens without asking for it, and an app asking for MFA gets it from the session', async (t) => {
  t.timeout(120_000);
  const user = await newUser(fixture);
  const { browser } = await accountBrowser(fixture, user);
  const key = new SoftAuthenticator({ rpId: new URL(fixture.issuer).hostname, origin: fixture.issuer });
  const { recoveryCodes } = await enrolSecurityKey(browser, user, key, { userVerified: true });
  t.is(recoveryCodes.length, 10, 'the first factor brought recovery codes');

  // "Back to your account": the overview itself, not the second-factor step.
  const back = await browser.follow('/account');
  t.false(isSecondFactorStep(back), `GET /account right after adding the first factor: ${describe(back)}`);
  t.is(new URL(back.url).pathname, '/account', describe(back));
  t.is(back.response.status, 200);

  // An app asking for MFA: no second-factor step, and the ID token names the key.
  const { step, request } = await beginSignIn(fixture, browser, { acr_values: ACR_MFA });
  t.true(isConsentStep(step), `acr_values=${ACR_MFA} right after adding a key: straight to consent, got ${describe(step)}`);
  if (!isConsentStep(step)) return;
  const code = codeOf(await approveConsent(browser, step));
  t.truthy(code);
  const tokens = await tokenRequest(fixture, { grant_type: 'authorization_code', code: code ?? '', redirect_uri: REDIRECT_URI, code_verifier: request.codeVerifier });
  t.is(tokens.status, 200, JSON.stringify(tokens.body));
  const claims = jwtPayload(tokens.body.id_token);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual([...claims.amr].sort(), ['hwk', 'mfa', 'pwd'], 'a device-bound key added, over the password sign-in');
});
