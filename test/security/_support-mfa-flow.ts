// Driving the sign-in pages and /account for the second-factor suites: the
// step submitters (password, second factor, passkey, consent, continue), a
// whole sign-in, "not signed in", /account sign-in and factor enrolment
// (TOTP, security keys), re-authentication redirects, and /token requests.
import type { ExecutionContext } from 'ava';
import { ScriptedBrowser, parseForm } from '../helpers/browser.ts';
import { tokenRequest as httpTokenRequest, type TokenResponse } from '../helpers/oidc-http.ts';
import type { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { authorizationRequest, type AuthorizationRequest } from './_support-pages.ts';
import {
  codeOf, describe, errorOf, hasWebauthnOptions, isConsentStep, isContinueStep, isEnrolStep, isPasswordStep, isSecondFactorStep,
  newUser, recoveryCodesOf, totpSecretOf, webauthnOptions,
  type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import { TotpDevice } from './_support-mfa-totp.ts';

// ------------------------------------------------------------ sign-in steps

/** Starts a code flow for the web client in `browser`; returns the first page (or redirect) and the request. */
export async function beginSignIn(fixture: MfaFixture, browser: ScriptedBrowser, extra: Record<string, string> = {}): Promise<{ step: Step; request: AuthorizationRequest }> {
  const request = authorizationRequest(fixture.issuer, fixture.client.client_id, extra);
  return { step: await browser.follow(request.url), request };
}

function formOf(step: Step, action: RegExp, label: string) {
  try {
    return parseForm(step.html, action);
  } catch {
    throw new Error(`expected the ${label} form, got ${describe(step)}:\n${step.html.slice(0, 1500)}`);
  }
}

export async function submitPassword(browser: ScriptedBrowser, step: Step, email: string, password: string): Promise<Step> {
  const { action, fields } = formOf(step, /\/interaction\/[^/]+\/login$/, 'password');
  return browser.follow(action, { method: 'POST', form: { ...fields, email, password } });
}

/** The second-factor form with `method` and its fields (csrf and hidden fields kept). */
export async function submitSecondFactor(browser: ScriptedBrowser, step: Step, values: Record<string, string>): Promise<Step> {
  const { action, fields } = formOf(step, /\/interaction\/[^/]+\/second-factor$/, 'second-factor');
  return browser.follow(action, { method: 'POST', form: { ...fields, ...values } });
}

export const submitTotp = (browser: ScriptedBrowser, step: Step, code: string, options: { rememberDevice?: boolean } = {}): Promise<Step> =>
  submitSecondFactor(browser, step, { method: 'totp', code, ...(options.rememberDevice ? { remember_device: '1' } : {}) });

export const submitRecoveryCode = (browser: ScriptedBrowser, step: Step, code: string): Promise<Step> =>
  submitSecondFactor(browser, step, { method: 'recovery', recovery_code: code });

export const submitKeyAsSecondFactor = (browser: ScriptedBrowser, step: Step, response: unknown, options: { rememberDevice?: boolean } = {}): Promise<Step> =>
  submitSecondFactor(browser, step, { method: 'webauthn', webauthn_response: JSON.stringify(response), ...(options.rememberDevice ? { remember_device: '1' } : {}) });

/** The login page's passkey form (POST /interaction/:uid/passkey). */
export async function submitPasskey(browser: ScriptedBrowser, step: Step, response: unknown): Promise<Step> {
  const { action, fields } = formOf(step, /\/interaction\/[^/]+\/passkey$/, 'passkey');
  return browser.follow(action, { method: 'POST', form: { ...fields, webauthn_response: JSON.stringify(response) } });
}

export async function approveConsent(browser: ScriptedBrowser, step: Step): Promise<Step> {
  const { action, fields } = formOf(step, /\/interaction\/[^/]+\/consent$/, 'consent');
  return browser.follow(action, { method: 'POST', form: fields });
}

export async function postContinue(browser: ScriptedBrowser, step: Step): Promise<Step> {
  const { action, fields } = formOf(step, /\/interaction\/[^/]+\/continue$/, 'continue');
  return browser.follow(action, { method: 'POST', form: fields });
}

export interface SignInOptions {
  /** Tick "Remember this device" on the second-factor form. */
  rememberDevice?: boolean;
}

/**
 * Completes the sign-in pages from `step` on like the user would: password,
 * second factor (TOTP when the user has it, else the security key), consent,
 * "continue" pages. Stops at the first step that leaves the sign-in pages (a
 * redirect to the client, or another page such as /account) and returns it.
 * Throws when a page refuses (4xx): callers that expect a refusal submit
 * the steps themselves.
 */
export async function completeSignIn(browser: ScriptedBrowser, step: Step, user: MfaUser, options: SignInOptions = {}): Promise<Step> {
  for (let pages = 0; pages < 12; pages++) {
    if (step.location) return step;
    if (step.response.status >= 400) throw new Error(`sign-in refused: ${describe(step)}\n${step.html.slice(0, 1500)}`);
    if (isPasswordStep(step)) {
      step = await submitPassword(browser, step, user.email, user.password);
    } else if (isSecondFactorStep(step)) {
      if (user.totp) step = await submitTotp(browser, step, await user.totp.freshCode(), options);
      else if (user.key && hasWebauthnOptions(step.html)) step = await submitKeyAsSecondFactor(browser, step, user.key.authenticate(webauthnOptions(step.html)), options);
      else throw new Error(`the second-factor step came up for ${user.email}, who has no factor the tests know of`);
    } else if (isConsentStep(step)) {
      step = await approveConsent(browser, step);
    } else if (isContinueStep(step)) {
      step = await postContinue(browser, step);
    } else if (isEnrolStep(step)) {
      throw new Error(`unexpected enrolment step for ${user.email}: ${describe(step)}`);
    } else {
      return step;
    }
  }
  throw new Error(`sign-in did not finish; last step ${describe(step)}`);
}

/** A full code-flow sign-in for the web client in `browser`; returns the authorization code. */
export async function signInForCode(fixture: MfaFixture, browser: ScriptedBrowser, user: MfaUser, options: SignInOptions = {}): Promise<string> {
  const { step } = await beginSignIn(fixture, browser);
  const done = await completeSignIn(browser, step, user, options);
  const code = codeOf(done);
  if (!code) throw new Error(`sign-in did not return a code: ${describe(done)}`);
  return code;
}

/** Starts a sign-in and submits the (correct) password; returns the step after it (the second-factor page for a user with a factor). */
export async function passwordStepDone(fixture: MfaFixture, browser: ScriptedBrowser, user: MfaUser, extra: Record<string, string> = {}): Promise<Step> {
  const { step } = await beginSignIn(fixture, browser, extra);
  if (!isPasswordStep(step)) throw new Error(`expected the password page, got ${describe(step)}`);
  return submitPassword(browser, step, user.email, user.password);
}

/** An authorization request with prompt=none from `browser`: the redirect back to the client. */
export async function promptNone(fixture: MfaFixture, browser: ScriptedBrowser, extra: Record<string, string> = {}): Promise<Step> {
  return (await beginSignIn(fixture, browser, { prompt: 'none', ...extra })).step;
}

/**
 * The browser holds no signed-in session: prompt=none answers login_required
 * (no code), and a plain authorization request shows the password page.
 * Runs in a copy of the browser (ScriptedBrowser's jar ignores cookie paths,
 * so a new interaction would overwrite the pending one's cookie, which a
 * real browser keeps): the browser's own pending interaction stays usable.
 */
export async function assertNotSignedIn(t: ExecutionContext, fixture: MfaFixture, original: MfaBrowser, label: string): Promise<void> {
  const browser = original.clone();
  const silent = await promptNone(fixture, browser);
  t.is(codeOf(silent), undefined, `${label}: prompt=none must not return a code (${describe(silent)})`);
  t.is(errorOf(silent), 'login_required', `${label}: prompt=none (${describe(silent)})`);
  const again = (await beginSignIn(fixture, browser)).step;
  t.true(isPasswordStep(again), `${label}: a new authorization request must ask for the password, got ${describe(again)}`);
}

// ------------------------------------------------------------ /account

/**
 * GETs an /account page as `user` in `browser`, signing in (or
 * re-authenticating) through the sign-in pages when the server sends the
 * browser there, and returns the page once the browser is on `path`.
 */
export async function openAccountPage(browser: ScriptedBrowser, user: MfaUser, path = '/account'): Promise<Step> {
  let step = await browser.follow(path);
  for (let round = 0; round < 3; round++) {
    if (step.location) throw new Error(`GET ${path} left the issuer: ${step.location}`);
    if (new URL(step.url).pathname === path && step.response.status === 200 && !isPasswordStep(step) && !isSecondFactorStep(step)) return step;
    if (isPasswordStep(step) || isSecondFactorStep(step) || isConsentStep(step) || isContinueStep(step)) {
      step = await completeSignIn(browser, step, user);
      if (step.location) throw new Error(`account sign-in left the issuer: ${step.location}`);
      if (new URL(step.url).pathname !== path || step.response.status !== 200) step = await browser.follow(path);
      continue;
    }
    throw new Error(`GET ${path} gave ${describe(step)}:\n${step.html.slice(0, 1500)}`);
  }
  throw new Error(`GET ${path} did not settle; last ${describe(step)}`);
}

/** A new browser signed in to /account as `user`; returns it with the /account page. */
export async function accountBrowser(fixture: MfaFixture, user: MfaUser, ip?: string): Promise<{ browser: MfaBrowser; page: Step }> {
  const browser = fixture.browser(ip);
  const page = await openAccountPage(browser, user);
  return { browser, page };
}

const onSignInPage = (step: Step) => isPasswordStep(step) || isSecondFactorStep(step);

/**
 * Enrols TOTP on /account/totp: reads #totp-secret, confirms with a current
 * code. Sets `user.totp` (and `user.recoveryCodes` when the recovery codes
 * page follows, as it does for a first factor). Re-authenticates when the
 * server asks for it and tries again.
 */
export async function enrolTotp(browser: ScriptedBrowser, user: MfaUser, name = 'Authenticator app'): Promise<{ device: TotpDevice; recoveryCodes: string[]; after: Step }> {
  for (let round = 0; round < 3; round++) {
    const page = await openAccountPage(browser, user, '/account/totp');
    const device = new TotpDevice(totpSecretOf(page.html));
    const { action, fields } = formOf(page, /\/account\/totp$/, 'TOTP enrolment');
    const after = await browser.follow(action, { method: 'POST', form: { ...fields, name, code: await device.freshCode() } });
    if (onSignInPage(after)) {
      await completeSignIn(browser, after, user);
      continue;
    }
    if (after.location || after.response.status >= 400) throw new Error(`TOTP enrolment refused: ${describe(after)}\n${after.html.slice(0, 1500)}`);
    const recoveryCodes = recoveryCodesOf(after.html);
    user.totp = device;
    if (recoveryCodes.length) user.recoveryCodes = recoveryCodes;
    return { device, recoveryCodes, after };
  }
  throw new Error('TOTP enrolment kept asking for re-authentication');
}

/**
 * Enrols a software security key on /account/security-keys: options from
 * #webauthn-options, the authenticator's registration response posted as
 * `webauthn_response`. Sets `user.key` (and recovery codes for a first factor).
 */
export async function enrolSecurityKey(
  browser: ScriptedBrowser, user: MfaUser, authenticator: SoftAuthenticator,
  options: { name?: string; userVerified?: boolean; backedUp?: boolean } = {},
): Promise<{ recoveryCodes: string[]; after: Step }> {
  for (let round = 0; round < 3; round++) {
    const page = await openAccountPage(browser, user, '/account/security-keys');
    const registration = authenticator.register(webauthnOptions(page.html), { userVerified: options.userVerified ?? true, backedUp: options.backedUp ?? false });
    const { action, fields } = formOf(page, /\/account\/security-keys$/, 'security key enrolment');
    const after = await browser.follow(action, {
      method: 'POST', form: { ...fields, name: options.name ?? 'Test key', webauthn_response: JSON.stringify(registration) },
    });
    if (onSignInPage(after)) {
      await completeSignIn(browser, after, user);
      continue;
    }
    if (after.location || after.response.status >= 400) throw new Error(`security key enrolment refused: ${describe(after)}\n${after.html.slice(0, 1500)}`);
    const recoveryCodes = recoveryCodesOf(after.html);
    user.key = authenticator;
    if (recoveryCodes.length) user.recoveryCodes = recoveryCodes;
    return { recoveryCodes, after };
  }
  throw new Error('security key enrolment kept asking for re-authentication');
}

/** A new user with TOTP enrolled through /account (in its own browser, which stays signed in to /account). */
export async function userWithTotp(fixture: MfaFixture): Promise<MfaUser & { totp: TotpDevice }> {
  const user = await newUser(fixture);
  const { browser } = await accountBrowser(fixture, user);
  await enrolTotp(browser, user);
  return user as MfaUser & { totp: TotpDevice };
}

/**
 * An /account change answered with a redirect to re-authenticate:
 * 302/303 to /account/reauth, or straight to /auth with max_age 0 or 1
 * (a sign-in no older than a second) or prompt=login. Returns the target.
 */
export async function assertReauthRedirect(t: ExecutionContext, fixture: MfaFixture, response: Response, label: string): Promise<URL | undefined> {
  const location = response.headers.get('location');
  await response.body?.cancel();
  t.true(response.status === 302 || response.status === 303, `${label}: expected a redirect to re-authenticate, got ${response.status}${location ? ` -> ${location}` : ''}`);
  if (!location) return undefined;
  const target = new URL(location, fixture.issuer);
  const reauth = target.origin === new URL(fixture.issuer).origin && (target.pathname === '/account/reauth'
    || (target.pathname === '/auth' && (['0', '1'].includes(target.searchParams.get('max_age') ?? '') || /\blogin\b/.test(target.searchParams.get('prompt') ?? ''))));
  t.true(reauth, `${label}: the redirect goes to re-authentication (/account/reauth or /auth with max_age <= 1), got ${location}`);
  return target;
}

/** GET /account without any automatic sign-in: must be the overview page itself. */
export async function accountOverview(browser: ScriptedBrowser): Promise<Step> {
  const page = await browser.follow('/account');
  if (page.location || new URL(page.url).pathname !== '/account' || page.response.status !== 200) {
    throw new Error(`expected the /account page of a signed-in browser, got ${describe(page)}`);
  }
  return page;
}

// ------------------------------------------------------------ /token

/** POST /token as the web client (client_secret_basic): status and JSON body, nothing thrown. */
export const tokenRequest = (fixture: MfaFixture, body: Record<string, string>): Promise<TokenResponse> =>
  httpTokenRequest(fixture.issuer, body, fixture.client);

/** The payload of a JWT, unverified. */
export const jwtPayload = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
