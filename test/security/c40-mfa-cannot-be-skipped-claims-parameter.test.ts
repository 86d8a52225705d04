// needs: postgres redis
// C40 MFA cannot be skipped, through the claims parameter (OIDC Core 5.5):
// discovery says claims_parameter_supported; an acr request for
// urn:latchkey:acr:mfa in `claims` (id_token or userinfo member, `value` or
// `values`, essential or voluntary, alone or next to acr_values=pwd) counts
// like acr_values=mfa: a user without a factor enrols inside the sign-in, a
// password-only session steps up (enrolment, or the second factor without the
// password), prompt=none on such a session answers login_required with no
// code, and the ID token (verified by openid-client) says acr mfa. An
// essential acr Latchkey cannot give (pwd for a user with a factor) ends in
// unmet_authentication_requirements, never in a code or a sign-in loop. Other
// claims requested in `claims` are asked for on the consent page and released
// only as requested. A malformed `claims` is invalid_request at the
// redirect_uri (and at PAR), never a 5xx.
import test, { type ExecutionContext } from 'ava';
import * as oidc from 'openid-client';
import { parseForm } from '../helpers/browser.ts';
import {
  ACR_MFA, ACR_PASSWORD, codeOf, describe, errorOf, isConsentStep, isEnrolStep, isPasswordStep, isSecondFactorStep, newUser, startMfaFixture, totpSecretOf,
  REDIRECT_URI, type AuthorizationRequest, type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { TotpDevice } from './_support-mfa-totp.ts';
import {
  accountBrowser, approveConsent, beginSignIn, completeSignIn, enrolTotp, promptNone, signInForCode, submitPassword, submitTotp,
} from './_support-mfa-flow.ts';

let fixture: MfaFixture;
let rp: oidc.Configuration;

test.before(async () => {
  fixture = await startMfaFixture();
  rp = await oidc.discovery(new URL(fixture.issuer), fixture.client.client_id, undefined, oidc.ClientSecretBasic(fixture.client.client_secret), {
    execute: [oidc.allowInsecureRequests],
  });
});
test.after.always(async () => {
  await fixture?.stop();
});

const claims = (value: unknown): string => JSON.stringify(value);
const ESSENTIAL_MFA = claims({ id_token: { acr: { essential: true, value: ACR_MFA } } });

/** Every way `claims` can ask for acr mfa (with a label), all of which must count. */
const MFA_REQUESTS: [string, Record<string, string>][] = [
  ['id_token essential value', { claims: ESSENTIAL_MFA }],
  ['id_token essential values', { claims: claims({ id_token: { acr: { essential: true, values: [ACR_MFA] } } }) }],
  ['id_token essential values pwd+mfa', { claims: claims({ id_token: { acr: { essential: true, values: [ACR_PASSWORD, ACR_MFA] } } }) }],
  ['userinfo essential value', { claims: claims({ userinfo: { acr: { essential: true, value: ACR_MFA } } }) }],
  ['id_token voluntary values', { claims: claims({ id_token: { acr: { values: [ACR_MFA] } } }) }],
  ['essential mfa next to acr_values=pwd', { claims: ESSENTIAL_MFA, acr_values: ACR_PASSWORD }],
];

/** The code of a redirect back to the client, exchanged by openid-client (signature, iss, nonce, state, PKCE checked). */
async function redeem(step: Step, request: AuthorizationRequest) {
  if (!codeOf(step)) throw new Error(`expected a code, got ${describe(step)}`);
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(step.location!), {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  return { tokens, claims: tokens.claims()! };
}

/** The enrol step's authenticator-app form, with a code from the secret it shows; returns the next step. */
async function enrolTotpInSignIn(browser: MfaBrowser, step: Step, user: MfaUser): Promise<Step> {
  const device = new TotpDevice(totpSecretOf(step.html));
  const { action, fields } = parseForm(step.html, /\/enrol\/totp$/);
  const next = await browser.follow(action, { method: 'POST', form: { ...fields, name: 'Phone', code: await device.freshCode() } });
  user.totp = device;
  return next;
}

/** A user without a factor, signed in with the password alone in the returned browser (consent given). */
async function passwordSession(): Promise<{ user: MfaUser; browser: MfaBrowser }> {
  const user = await newUser(fixture);
  const browser = fixture.browser();
  await signInForCode(fixture, browser, user);
  return { user, browser };
}

function assertNoCode(t: ExecutionContext, step: Step, label: string) {
  t.is(codeOf(step), undefined, `${label}: no code (${describe(step)})`);
  t.true(['login_required', 'interaction_required'].includes(errorOf(step) ?? ''), `${label}: login_required or interaction_required (${describe(step)})`);
}

test('C40: discovery says claims_parameter_supported', async (t) => {
  const metadata = await (await fetch(new URL('/.well-known/openid-configuration', fixture.issuer))).json() as Record<string, unknown>;
  t.is(metadata.claims_parameter_supported, true);
  t.deepEqual(metadata.acr_values_supported, [ACR_PASSWORD, ACR_MFA]);
});

test('C40: a user without factors asking for essential acr mfa through claims enrols in that sign-in; the ID token says acr mfa', async (t) => {
  t.timeout(120_000);
  const user = await newUser(fixture);
  const browser = fixture.browser();
  const { step: first, request } = await beginSignIn(fixture, browser, { claims: ESSENTIAL_MFA });
  t.true(isPasswordStep(first), describe(first));
  const afterPassword = await submitPassword(browser, first, user.email, user.password);
  t.true(isEnrolStep(afterPassword), `the enrol step after the password: ${describe(afterPassword)}`);
  t.is(codeOf(afterPassword), undefined);

  const done = await completeSignIn(browser, await enrolTotpInSignIn(browser, afterPassword, user), user);
  const { claims: idToken } = await redeem(done, request);
  t.is(idToken.sub, user.id);
  t.is(idToken.acr, ACR_MFA);
  t.deepEqual(idToken.amr, ['pwd', 'otp', 'mfa']);
});

test('C40: every form of an acr mfa request in claims sends a user without factors to enrolment', async (t) => {
  t.timeout(120_000);
  const user = await newUser(fixture);
  for (const [label, extra] of MFA_REQUESTS) {
    const browser = fixture.browser();
    const { step } = await beginSignIn(fixture, browser, extra);
    const after = await submitPassword(browser, step, user.email, user.password);
    t.true(isEnrolStep(after), `${label}: the enrol step after the password, got ${describe(after)}`);
  }
});

test('C40: a password-only session with prompt=none and an acr mfa request in claims gets login_required, no code', async (t) => {
  t.timeout(120_000);
  const { browser } = await passwordSession();
  // Control: the session itself is good for a silent request.
  t.truthy(codeOf(await promptNone(fixture, browser.clone())), 'prompt=none without claims gets a code');
  for (const [label, extra] of MFA_REQUESTS) assertNoCode(t, await promptNone(fixture, browser.clone(), extra), `prompt=none, ${label}`);
});

test('C40: a password-only session asking for acr mfa in claims steps up: enrolment without the password, then acr mfa', async (t) => {
  t.timeout(120_000);
  const { user, browser } = await passwordSession();
  const { step, request } = await beginSignIn(fixture, browser, { claims: ESSENTIAL_MFA });
  t.true(isEnrolStep(step), `the enrol step straight away: ${describe(step)}`);
  const done = await completeSignIn(browser, await enrolTotpInSignIn(browser, step, user), user);
  const { claims: idToken } = await redeem(done, request);
  t.is(idToken.acr, ACR_MFA);
  t.true((idToken.amr as string[]).includes('otp'));
});

test('C40: a password-only session of a user who has since added TOTP: prompt=none gets login_required, an interactive request the second factor only', async (t) => {
  t.timeout(150_000);
  const { user, browser } = await passwordSession();
  // The factor is added in another browser, so this one's session stays password-only.
  await enrolTotp((await accountBrowser(fixture, user)).browser, user);

  assertNoCode(t, await promptNone(fixture, browser.clone(), { claims: ESSENTIAL_MFA }), 'prompt=none');
  const { step, request } = await beginSignIn(fixture, browser, { claims: ESSENTIAL_MFA });
  t.true(isSecondFactorStep(step), `the second-factor step straight away, no password: ${describe(step)}`);
  const done = await completeSignIn(browser, await submitTotp(browser, step, await user.totp!.freshCode()), user);
  const { claims: idToken } = await redeem(done, request);
  t.is(idToken.acr, ACR_MFA);
  t.deepEqual(idToken.amr, ['pwd', 'otp', 'mfa']);
  // The session is two-factor now: the same silent request succeeds.
  t.truthy(codeOf(await promptNone(fixture, browser.clone(), { claims: ESSENTIAL_MFA })), 'prompt=none after the step-up gets a code');
});

test('C40: an essential acr pwd in claims does not skip the second factor and ends in unmet_authentication_requirements, not a loop', async (t) => {
  t.timeout(150_000);
  const { user } = await passwordSession();
  await enrolTotp((await accountBrowser(fixture, user)).browser, user);
  const browser = fixture.browser();
  const { step } = await beginSignIn(fixture, browser, { claims: claims({ id_token: { acr: { essential: true, value: ACR_PASSWORD } } }) });
  const afterPassword = await submitPassword(browser, step, user.email, user.password);
  t.true(isSecondFactorStep(afterPassword), `the second factor is still asked for: ${describe(afterPassword)}`);
  const done = await completeSignIn(browser, await submitTotp(browser, afterPassword, await user.totp!.freshCode()), user);
  t.is(codeOf(done), undefined, describe(done));
  t.is(errorOf(done), 'unmet_authentication_requirements', describe(done));
});

test('C40: other claims requested in claims are asked for on the consent page and released only where requested', async (t) => {
  t.timeout(120_000);
  const user = await newUser(fixture);
  const browser = fixture.browser();
  // scope openid alone: email only through the claims parameter, for userinfo only.
  const { step, request } = await beginSignIn(fixture, browser, { claims: claims({ userinfo: { email: null, phone_number: null } }) });
  const consent = await submitPassword(browser, step, user.email, user.password);
  t.true(isConsentStep(consent), describe(consent));
  t.regex(consent.html, /Your email address/, 'the consent page lists the email claim');
  const { tokens, claims: idToken } = await redeem(await approveConsent(browser, consent), request);
  t.is(idToken.email, undefined, 'not requested for the ID token');
  t.is(idToken.acr, ACR_PASSWORD);
  const userinfo = await oidc.fetchUserInfo(rp, tokens.access_token, user.id);
  t.deepEqual(Object.keys(userinfo).sort(), ['email', 'sub'], 'exactly sub and the requested, granted email (no email_verified, no unsupported phone_number)');
  t.is(userinfo.email, user.email);
});

test('C40: a malformed claims parameter gets invalid_request at the redirect_uri (and at PAR), never a 5xx', async (t) => {
  t.timeout(120_000);
  const malformed = [
    '{not json', 'null', '[]', '"acr"', '{}', claims({ id_token: [] }), claims({ id_token: { acr: 'x' } }), claims({ userinfo: { acr: [ACR_MFA] } }),
    claims({ id_token: { acr: { essential: true, values: ACR_MFA } } }), claims({ id_token: { acr: { values: ACR_MFA } } }),
    claims({ id_token: { acr: { value: 1 } } }), claims({ userinfo: { acr: { values: [ACR_MFA, 1] } } }), claims({ id_token: { acr: { essential: 'yes', value: ACR_MFA } } }),
  ];
  const { browser } = await passwordSession();
  for (const value of malformed) {
    for (const [label, from] of [['no session', fixture.browser()], ['signed in', browser.clone()]] as const) {
      const { step } = await beginSignIn(fixture, from, { claims: value });
      t.true(step.location?.startsWith(REDIRECT_URI), `${label}, claims=${value}: redirected to the client, got ${describe(step)}`);
      t.is(errorOf(step), 'invalid_request', `${label}, claims=${value}: ${step.location}`);
      t.regex(new URL(step.location ?? REDIRECT_URI).searchParams.get('error_description') ?? '', /claims/, `${label}, claims=${value}: refused for its claims`);
      t.is(codeOf(step), undefined);
    }
  }
  const { client_id: id, client_secret: secret } = fixture.client;
  for (const value of ['{not json', claims({ id_token: { acr: { essential: true, values: ACR_MFA } } })]) {
    const par = await fetch(new URL('/request', fixture.issuer), {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` },
      body: new URLSearchParams({
        client_id: id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
        code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', claims: value,
      }),
    });
    const answer = await par.json() as { error?: string; error_description?: string };
    t.is(par.status, 400, `PAR, claims=${value}`);
    t.is(answer.error, 'invalid_request', `PAR, claims=${value}`);
    t.regex(answer.error_description ?? '', /claims/, `PAR, claims=${value}: refused for its claims`);
  }
});
