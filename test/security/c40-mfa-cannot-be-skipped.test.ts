// needs: postgres redis
// C40 MFA cannot be skipped. For a user with TOTP, after the password step
// (second factor still missing): POSTs to other steps of the interaction
// (consent, continue, enrolment) are refused and yield no code; a new
// authorization request with prompt=none gets login_required, also when
// it asks only for acr pwd; a request asking only for acr pwd still gets the
// second-factor step; /token hands out nothing for anything the browser
// holds; the browser is not signed in. The interaction itself still works
// with the real second factor afterwards (control). An admin password reset
// (`latchkey users set-password`) keeps the factors: the next sign-in with
// the new password still asks for the second factor; a sign-out everywhere
// while the second factor is pending voids the password proven before it.
// An app asking for acr mfa sends a user without a factor to enrolment.
// A sign-in to /account on a remembered device (no second factor presented)
// cannot remove a factor without re-authenticating. Where MFA is required,
// the last factor cannot be removed at all.
// (Changing factors once the last factor is older than ACCOUNT_REAUTH_WINDOW:
// c40-mfa-cannot-be-skipped-account-reauth.test.ts; asking for MFA with the
// claims parameter: c40-mfa-cannot-be-skipped-claims-parameter.test.ts.)
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { parseForm } from '../helpers/browser.ts';
import {
  browserWithDeviceCookie, deviceCookieName, factorIdsOf, ACR_MFA, ACR_PASSWORD, isEnrolStep, newUser, codeOf, describe, errorOf, interactionUid, isPasswordStep,
  isSecondFactorStep, REDIRECT_URI, startMfaFixture, type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { sleep, type TotpDevice } from './_support-mfa-totp.ts';
import {
  accountBrowser, accountOverview, assertReauthRedirect, openAccountPage, signInForCode, assertNotSignedIn, completeSignIn, passwordStepDone, promptNone,
  submitPassword, submitTotp, tokenRequest, userWithTotp, beginSignIn,
} from './_support-mfa-flow.ts';

let fixture: MfaFixture;

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

type TotpUser = MfaUser & { totp: TotpDevice };

async function afterPassword(user: MfaUser, extra: Record<string, string> = {}): Promise<{ browser: MfaBrowser; step: Step; uid: string; csrf: string }> {
  const browser = fixture.browser();
  const step = await passwordStepDone(fixture, browser, user, extra);
  if (!isSecondFactorStep(step)) throw new Error(`expected the second-factor page after the password, got ${describe(step)}`);
  const { fields } = parseForm(step.html, /\/second-factor$/);
  if (!fields.csrf) throw new Error('the second-factor form has no csrf field');
  return { browser, step, uid: interactionUid(step), csrf: fields.csrf };
}

/** Control: the real second factor still completes this interaction. */
async function finishWithTotp(t: import('ava').ExecutionContext, browser: MfaBrowser, step: Step, user: TotpUser, label: string) {
  const answer = await submitTotp(browser, step, await user.totp.freshCode());
  const done = await completeSignIn(browser, answer, user).catch((error: Error) => error);
  t.truthy(!(done instanceof Error) && codeOf(done), `${label}: with the TOTP code the sign-in completes: ${done instanceof Error ? done.message : describe(done)}`);
}

test('C40: after the password step, POSTs to the consent, continue and enrolment steps are refused and give no code', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const { browser, uid, csrf } = await afterPassword(user);

  const attempts: [string, Record<string, string>][] = [
    ['consent', { csrf }],
    ['continue', { csrf }],
    ['enrol/totp', { csrf, code: '123456', name: 'Attacker app' }],
    ['enrol/webauthn', { csrf, name: 'Attacker key', webauthn_response: '{}' }],
  ];
  for (const [action, form] of attempts) {
    const response = await browser.request(`/interaction/${uid}/${action}`, { method: 'POST', form });
    const location = response.headers.get('location');
    await response.body?.cancel();
    t.true(response.status >= 400 && response.status < 500, `POST /interaction/:uid/${action} is refused with 4xx, got ${response.status}${location ? ` -> ${location}` : ''}`);
    if (location) {
      const next = await browser.follow(location);
      t.is(codeOf(next), undefined, `POST ${action}: no code (${describe(next)})`);
    }
  }
  await assertNotSignedIn(t, fixture, browser, 'after the skipped steps');

  // The interaction is still at the second-factor step, and only the real factor finishes it.
  const again = await browser.follow(`/interaction/${uid}`);
  t.true(isSecondFactorStep(again), `GET /interaction/:uid still shows the second-factor step: ${describe(again)}`);
  await finishWithTotp(t, browser, again, user, 'control');
});

test('C40: after the password step, a new authorization request with prompt=none gets login_required and no code (also asking only for acr pwd)', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const { browser, step } = await afterPassword(user);

  for (const extra of [{}, { acr_values: ACR_PASSWORD }, { acr_values: ACR_PASSWORD, max_age: '3600' }] as Record<string, string>[]) {
    const silent = await promptNone(fixture, browser.clone(), extra);
    t.is(codeOf(silent), undefined, `prompt=none ${JSON.stringify(extra)}: no code (${describe(silent)})`);
    t.is(errorOf(silent), 'login_required', `prompt=none ${JSON.stringify(extra)} (${describe(silent)})`);
  }
  const plain = (await beginSignIn(fixture, browser.clone())).step;
  t.true(isPasswordStep(plain), `a plain authorization request asks for the password again, got ${describe(plain)}`);
  await finishWithTotp(t, browser, step, user, 'control');
});

test('C40: asking only for acr pwd does not skip the second factor of a user who has one', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const browser = fixture.browser();
  const step = await passwordStepDone(fixture, browser, user, { acr_values: ACR_PASSWORD });
  t.true(isSecondFactorStep(step), `acr_values=${ACR_PASSWORD}: the second-factor step still comes, got ${describe(step)}`);
  t.is(codeOf(step), undefined);
  await assertNotSignedIn(t, fixture, browser, 'acr pwd after the password');
});

test('C40: after the password step, /token gives no tokens for anything the browser holds', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const { browser, uid } = await afterPassword(user);
  const verifier = randomBytes(32).toString('base64url');
  const candidates = [uid, ...browser.cookies.values(), randomBytes(32).toString('base64url')];
  for (const value of candidates) {
    const bodies: Record<string, string>[] = [
      { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT_URI, code_verifier: verifier },
      { grant_type: 'refresh_token', refresh_token: value },
    ];
    for (const body of bodies) {
      const answer = await tokenRequest(fixture, body);
      t.true(answer.status === 400 || answer.status === 401, `${body.grant_type} with ${value.slice(0, 12)}…: status ${answer.status}`);
      t.falsy(answer.body.access_token, `${body.grant_type}: no access token`);
      t.falsy(answer.body.id_token, `${body.grant_type}: no ID token`);
    }
  }
  // The web client has no client_credentials grant, and no grant is a way around the login.
  const machine = await tokenRequest(fixture, { grant_type: 'client_credentials' });
  t.falsy(machine.body.access_token, `client_credentials: ${JSON.stringify(machine.body)}`);
  await assertNotSignedIn(t, fixture, browser, 'after the /token attempts');
});

test('C40: an admin password reset (users set-password) keeps the factors: the next sign-in still asks for the second factor', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const newPassword = `Reset-${randomBytes(12).toString('base64url')}`;
  await fixture.server.admin(['users', 'set-password', user.email, '--password-stdin'], { stdin: newPassword });

  const old = fixture.browser();
  const { step: oldPage } = await beginSignIn(fixture, old);
  const refused = await submitPassword(old, oldPage, user.email, user.password);
  t.is(refused.response.status, 401, `the old password is refused: ${describe(refused)}`);

  const browser = fixture.browser();
  const afterNew = await passwordStepDone(fixture, browser, { ...user, password: newPassword });
  t.true(isSecondFactorStep(afterNew), `with the new password the second factor is still asked for: ${describe(afterNew)}`);
  t.is(codeOf(afterNew), undefined, 'no code after the password alone');
  await assertNotSignedIn(t, fixture, browser, 'after the new password alone');
  await finishWithTotp(t, browser, afterNew, { ...user, password: newPassword }, 'control');
});

test('C40: a sign-in to /account with a remembered device (no second factor shown) cannot change factors without one', async (t) => {
  t.timeout(150_000);
  const user = await userWithTotp(fixture);
  const first = fixture.browser();
  await signInForCode(fixture, first, user, { rememberDevice: true });
  if (!deviceCookieName(first)) {
    t.fail('"Remember this device" set no latchkey_device cookie');
    return;
  }
  // The same browser later, signed out, signs in to /account: password, and the remembered device.
  const browser = browserWithDeviceCookie(fixture.issuer, first, first.ip);
  const start = await browser.follow('/account');
  if (!isPasswordStep(start)) throw new Error(`GET /account should lead to the password page, got ${describe(start)}`);
  const afterPassword = await submitPassword(browser, start, user.email, user.password);
  if (isSecondFactorStep(afterPassword)) {
    t.log('the account page does not let a remembered device stand in for the second factor: nothing more to check');
    t.pass();
    return;
  }
  const page = await completeSignIn(browser, afterPassword, user);
  t.is(new URL(page.url).pathname, '/account', `signed in to /account: ${describe(page)}`);
  const ids = factorIdsOf(page.html);
  const remove = parseForm(page.html, /\/account\/factors\/[^/]+\/remove$/);
  const response = await browser.request(remove.action, { method: 'POST', form: remove.fields });
  await assertReauthRedirect(t, fixture, response, 'POST /account/factors/:id/remove after a remembered-device sign-in');
  t.deepEqual(factorIdsOf((await accountOverview(browser.clone())).html), ids, 'the factor is still there');
});

test('C40: where MFA is required, /account refuses to remove the last factor; without the requirement it may go', async (t) => {
  t.timeout(150_000);
  const user = await userWithTotp(fixture);
  const { browser } = await accountBrowser(fixture, user);
  const removeLast = async () => {
    const page = await openAccountPage(browser, user);
    const [factorId] = factorIdsOf(page.html);
    const { action, fields } = parseForm(page.html, new RegExp(`/account/factors/${factorId}/remove$`));
    return { factorId, answer: await browser.follow(new URL(action, fixture.issuer).href, { method: 'POST', form: fields }) };
  };

  await fixture.server.admin(['users', 'require-mfa', user.email]);
  const refused = await removeLast();
  t.is(refused.answer.response.status, 409, describe(refused.answer));
  t.regex(refused.answer.html, /role="alert">[^<]*add another factor/);
  t.deepEqual(factorIdsOf((await openAccountPage(browser, user)).html), [refused.factorId], 'the factor is still there');

  await fixture.server.admin(['users', 'require-mfa', user.email, '--off']);
  const removed = await removeLast();
  t.is(removed.answer.response.status, 200, describe(removed.answer));
  t.deepEqual(factorIdsOf(removed.answer.html), [], 'removed once MFA is no longer required');
});

test('C40: a sign-out everywhere while a sign-in waits for its second factor voids the password proven in it', async (t) => {
  t.timeout(120_000);
  const user = await userWithTotp(fixture);
  const { browser, step } = await afterPassword(user);
  await sleep(1_100); // sign-out works in whole seconds: the password was proven in an earlier one
  await fixture.server.admin(['users', 'sign-out', user.email]);
  const answer = await submitTotp(browser, step, await user.totp.freshCode());
  t.is(codeOf(answer), undefined, `no code after the sign-out: ${describe(answer)}`);
  const again = answer.location ? await browser.follow(new URL(answer.location, fixture.issuer).href) : answer;
  t.true(isPasswordStep(again) || again.response.status === 403, `back to the password (or refused): ${describe(again)}`);
  await assertNotSignedIn(t, fixture, browser, 'after the sign-out');
});

test('C40: an app asking for acr mfa takes a user without any factor through enrolment', async (t) => {
  t.timeout(120_000);
  const user = await newUser(fixture);
  const browser = fixture.browser();
  const step = await passwordStepDone(fixture, browser, user, { acr_values: ACR_MFA });
  t.true(isEnrolStep(step), `the enrol step after the password: ${describe(step)}`);
  await assertNotSignedIn(t, fixture, browser, 'before enrolling');
});
