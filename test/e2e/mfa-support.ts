// Shared by the MFA browser suites (test/e2e/mfa-*.test.ts): a running server,
// one Chromium, a loopback redirect URI, first-party code-flow clients, and
// the hosted pages driven the way a user would (the DOM contract of issue 3:
// ids #second-factor-form, #totp-secret, #recovery-codes, #register-key, ...).
import * as client from 'openid-client';
import {
  addVirtualAuthenticator, authorize, describePage, finishAuthorization, expectOn, getCredentials, launchChromium, newPage, newTab, nextTotp,
  screenshots, startCallbackServer,
  type AuthorizationParameters, type Browser, type CallbackServer, type Page, type PendingAuthorization, type RelyingParty, type VirtualCredential,
} from '../helpers/chromium.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createUser, discover, type TestUser } from './support.ts';

export const ACR_PWD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';

export type Shot = (page: Page, name: string) => Promise<unknown>;

export interface MfaSuite {
  server: RunningServer;
  browser: Browser;
  callback: CallbackServer;
  /** A code-flow client registered for the loopback redirect URI (first-party unless told otherwise). */
  relyingParty(name: string, options?: { firstParty?: boolean; extra?: string[] }): Promise<RelyingParty>;
  user(label: string): Promise<TestUser>;
  /** A page in a fresh browser context, closed when the test ends. */
  page(t: { teardown(fn: () => unknown): void }): Promise<Page>;
  /** Numbered screenshots test/artifacts/<suite>-<test>-NN-<page>.png. */
  shots(test: string): Shot;
  stop(): Promise<void>;
}

export async function startMfaSuite(suite: string, options: { env?: Record<string, string> } = {}): Promise<MfaSuite> {
  const callback = await startCallbackServer();
  const server = await startServer({ mode: 'production', env: options.env ?? {} });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await server.stop();
    await callback.close();
    throw error;
  }
  return {
    server,
    browser,
    callback,
    async relyingParty(name, { firstParty = true, extra = [] } = {}) {
      const created = await server.admin<{ client_id: string; client_secret: string }>([
        'clients', 'create', '--name', name, '--grant', 'authorization_code', '--redirect-uri', callback.redirectUri,
        ...(firstParty ? ['--first-party'] : []), ...extra,
      ]);
      const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
      return { clientId: created.client_id, config, redirectUri: callback.redirectUri };
    },
    user: (label) => createUser(server, label),
    async page(t) {
      const page = await newPage(browser);
      t.teardown(() => page.context().close());
      return page;
    },
    shots: (test) => screenshots(`${suite}-${test}`),
    async stop() {
      await browser?.close().catch(() => {});
      await callback.close();
      await server.stop();
    },
  };
}

// ---------------------------------------------------------------------------
// Sign-in steps (/interaction/:uid)

export const LOGIN_FORM = 'form[action$="/login"]';
export const SECOND_FACTOR_FORM = '#second-factor-form';

/** The password step: screenshot, email + password, "Sign in". */
export async function passwordStep(page: Page, user: { email: string; password: string }, shot?: Shot): Promise<void> {
  await expectOn(page, `${LOGIN_FORM} input[name="password"]`, 'the sign-in page');
  await shot?.(page, 'login');
  await page.fill(`${LOGIN_FORM} input[name="email"]`, user.email);
  await page.fill(`${LOGIN_FORM} input[name="password"]`, user.password);
  await page.click(`${LOGIN_FORM} button[type="submit"]`);
}

/** On the second-factor step ("Two-step verification"): screenshot. */
export async function expectSecondFactor(page: Page, shot?: Shot, name = 'second-factor'): Promise<void> {
  await expectOn(page, SECOND_FACTOR_FORM, 'the second-factor step (#second-factor-form)');
  await shot?.(page, name);
}

/** An app's authorization request in `page`, through the password, up to the second-factor step. */
export async function signInUpToSecondFactor(
  page: Page, rp: RelyingParty, user: { email: string; password: string }, shot?: Shot,
  options: { parameters?: AuthorizationParameters; screenshot?: string } = {},
): Promise<PendingAuthorization> {
  const pending = await authorize(page, rp, options.parameters);
  await passwordStep(page, user, shot);
  await expectSecondFactor(page, shot, options.screenshot);
  return pending;
}

/** Submits a form with a button and returns the status of the POST to `pathSuffix`. */
async function postWith(page: Page, pathSuffix: string, submit: () => Promise<void>): Promise<number> {
  const response = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(pathSuffix), { timeout: 15_000 });
  await submit();
  return (await response).status();
}

/** Types a TOTP code and presses "Verify" (method=totp); returns the POST's status. */
export async function submitTotp(page: Page, code: string, options: { rememberDevice?: boolean } = {}): Promise<number> {
  await page.fill(`${SECOND_FACTOR_FORM} input[name="code"]`, code);
  if (options.rememberDevice) await page.check(`${SECOND_FACTOR_FORM} input[name="remember_device"]`);
  return postWith(page, '/second-factor', () => page.click(`${SECOND_FACTOR_FORM} button[name="method"][value="totp"]`));
}

/** Opens the recovery part of the form, types the code, presses "Use recovery code"; returns the POST's status. */
export async function submitRecoveryCode(page: Page, code: string): Promise<number> {
  await page.$$eval(`${SECOND_FACTOR_FORM} details`, (elements) => elements.forEach((d) => { (d as HTMLDetailsElement).open = true; }));
  await page.fill(`${SECOND_FACTOR_FORM} input[name="recovery_code"]`, code);
  return postWith(page, '/second-factor', () => page.click(`${SECOND_FACTOR_FORM} button[name="method"][value="recovery"]`));
}

/** A visible error message on the page (role=alert, not the hidden WebAuthn one). */
export async function alertText(page: Page): Promise<string> {
  const alert = page.locator('[role="alert"]:visible').first();
  await alert.waitFor({ state: 'visible', timeout: 5000 });
  return alert.innerText();
}

/** The page after a recovery code: "N recovery codes left", then Continue. */
export async function recoveryUsedNotice(page: Page, shot?: Shot): Promise<string> {
  await expectOn(page, '#recovery-left', 'the "recovery codes left" page (#recovery-left)');
  await shot?.(page, 'recovery-left');
  return page.locator('#recovery-left').innerText();
}

export async function clickContinue(page: Page): Promise<void> {
  await page.click('form[action$="/continue"] button[type="submit"]');
}

/** The recovery-codes page (after a first factor): the 10 codes; screenshot. */
export async function readRecoveryCodes(page: Page, shot?: Shot): Promise<string[]> {
  await expectOn(page, '#recovery-codes li', 'the recovery codes page (#recovery-codes li)');
  await shot?.(page, 'recovery-codes');
  return (await page.locator('#recovery-codes li').allInnerTexts()).map((code) => code.trim());
}

/** The Base32 secret shown next to the QR code (#totp-secret, grouped for reading). */
export async function readTotpSecret(page: Page): Promise<string> {
  await expectOn(page, '#totp-secret', 'the authenticator app set-up (#totp-secret)');
  const text = await page.locator('#totp-secret').evaluate((element) =>
    element instanceof HTMLInputElement ? element.value : element.textContent ?? '');
  return text.replace(/\s+/g, '').toUpperCase();
}

/** The enrol step (MFA required, no factor yet): authenticator app set-up; returns the secret. */
export async function enrolTotpAtSignIn(page: Page, shot?: Shot): Promise<string> {
  await expectOn(page, '#totp-enrol', 'the enrol step ("Set up two-step verification", #totp-enrol)');
  await expectOn(page, '#totp-qr svg, svg#totp-qr', 'the QR code (#totp-qr)');
  await shot?.(page, 'enrol');
  const secret = await readTotpSecret(page);
  await page.fill('#totp-enrol input[name="code"]', await nextTotp(secret));
  await page.click('#totp-enrol button[type="submit"]');
  return secret;
}

// ---------------------------------------------------------------------------
// The account page (/account), signed in through the browser's session

/** How to confirm it is the user when the account page asks again (re-authentication). */
export interface Reauth {
  user: { email: string; password: string };
  /** TOTP secret, when the account has an authenticator app. */
  secret?: string;
  /** The page has a virtual authenticator holding the account's key: answer with "Use a security key or passkey". */
  securityKey?: boolean;
}

export const ACCOUNT_PAGE = '#password-form';

/**
 * If the browser was sent to re-authenticate (second-factor step, or the
 * password step), does it and returns true once back on /account...; else false.
 */
export async function reauthenticateIfAsked(page: Page, reauth: Reauth, shot?: Shot): Promise<boolean> {
  const onAccount = (url: URL) => url.pathname.startsWith('/account') && !url.pathname.startsWith('/account/reauth');
  if (onAccount(new URL(page.url()))) return false;
  const which = await Promise.race([
    page.locator(SECOND_FACTOR_FORM).waitFor({ state: 'visible' }).then(() => 'second-factor'),
    page.locator(`${LOGIN_FORM} input[name="password"]`).waitFor({ state: 'visible' }).then(() => 'password'),
  ]).catch(async () => {
    throw new Error(`expected the account page or a re-authentication step, but the browser is on:\n${await describePage(page)}`);
  });
  if (which === 'password') {
    await passwordStep(page, reauth.user, shot);
    if (!onAccount(new URL(page.url()))) await page.waitForURL(onAccount).catch(() => {});
  }
  if (!onAccount(new URL(page.url())) && await page.locator(SECOND_FACTOR_FORM).isVisible()) {
    await shot?.(page, 'reauth-second-factor');
    if (reauth.secret) await submitTotp(page, await nextTotp(reauth.secret));
    else if (reauth.securityKey) await page.click('#security-key');
    else throw new Error(`re-authentication asks for a second factor, and the test has none to give:\n${await describePage(page)}`);
  }
  try {
    await page.waitForURL(onAccount, { timeout: 15_000 });
  } catch {
    throw new Error(`re-authentication did not return to the account page; the browser is on:\n${await describePage(page)}`);
  }
  return true;
}

/** Opens /account in a new tab of the same browser context; screenshot. */
export async function openAccount(page: Page, issuer: string, reauth: Reauth, shot?: Shot): Promise<Page> {
  const tab = await newTab(page);
  await tab.goto(`${issuer}/account`);
  await waitForAccountOrReauth(tab, ACCOUNT_PAGE);
  if (await reauthenticateIfAsked(tab, reauth, shot)) await tab.goto(`${issuer}/account`);
  await expectOn(tab, ACCOUNT_PAGE, 'the account page (#password-form)');
  await shot?.(tab, 'account');
  return tab;
}

async function waitForAccountOrReauth(page: Page, selector: string): Promise<void> {
  await page.locator(`${selector}, ${SECOND_FACTOR_FORM}, ${LOGIN_FORM}`).first().waitFor({ state: 'visible' }).catch(() => {});
}

/** Goes to an account sub-page (re-authenticating when asked) and waits for `selector`. */
async function accountSubpage(tab: Page, issuer: string, path: string, selector: string, reauth: Reauth, shot?: Shot): Promise<void> {
  await tab.goto(`${issuer}${path}`);
  await waitForAccountOrReauth(tab, selector);
  if (await reauthenticateIfAsked(tab, reauth, shot)) {
    if (new URL(tab.url()).pathname !== path) await tab.goto(`${issuer}${path}`);
  }
  await expectOn(tab, selector, `${path} (${selector})`);
}

export interface AddedFactor {
  /** The recovery codes shown after the first factor ([] when it was not the first). */
  recoveryCodes: string[];
}

/** Account page: "Add an authenticator app" (#add-totp), scan, confirm; returns the secret and recovery codes. */
export async function addTotpOnAccount(tab: Page, issuer: string, name: string, reauth: Reauth, shot?: Shot): Promise<AddedFactor & { secret: string }> {
  await expectOn(tab, '#add-totp', 'the account page link "Add an authenticator app" (#add-totp)');
  const href = await tab.locator('#add-totp').getAttribute('href');
  await accountSubpage(tab, issuer, new URL(href ?? '/account/totp', issuer).pathname, '#totp-secret', reauth, shot);
  await expectOn(tab, '#totp-qr svg, svg#totp-qr', 'the QR code (#totp-qr)');
  await shot?.(tab, 'account-totp');
  const secret = await readTotpSecret(tab);
  const form = 'form[action$="/account/totp"]';
  await tab.fill(`${form} input[name="code"]`, await nextTotp(secret));
  if (await tab.locator(`${form} input[name="name"]`).count()) await tab.fill(`${form} input[name="name"]`, name);
  await tab.click(`${form} button[type="submit"]`);
  return { secret, recoveryCodes: await afterFactorAdded(tab, { ...reauth, secret }, shot) };
}

/** Account page: "Add a security key or passkey" (#add-key); the page's authenticator answers. */
export async function addSecurityKeyOnAccount(tab: Page, issuer: string, name: string, reauth: Reauth, shot?: Shot): Promise<AddedFactor> {
  await expectOn(tab, '#add-key', 'the account page link "Add a security key or passkey" (#add-key)');
  const href = await tab.locator('#add-key').getAttribute('href');
  await accountSubpage(tab, issuer, new URL(href ?? '/account/security-keys', issuer).pathname, '#register-key', reauth, shot);
  await shot?.(tab, 'security-keys');
  const form = 'form[action$="/account/security-keys"]';
  if (await tab.locator(`${form} input[name="name"]`).count()) await tab.fill(`${form} input[name="name"]`, name);
  await tab.click('#register-key');
  return { recoveryCodes: await afterFactorAdded(tab, { ...reauth, securityKey: true }, shot) };
}

/**
 * After adding a factor: the recovery codes page (first factor, then "Back to
 * your account") or the account page. Adding the factor counts as giving it,
 * so going back should not ask for it; if it does (a re-authentication for
 * another reason), `reauth` answers with it.
 */
async function afterFactorAdded(tab: Page, reauth: Reauth, shot?: Shot): Promise<string[]> {
  const codes = tab.locator('#recovery-codes li').first();
  const account = tab.locator(ACCOUNT_PAGE);
  try {
    await Promise.race([codes.waitFor({ state: 'visible' }), account.waitFor({ state: 'visible' })]);
  } catch {
    throw new Error(`after adding a factor, expected the recovery codes or the account page; the browser is on:\n${await describePage(tab)}`);
  }
  if (!await codes.isVisible()) return [];
  const recoveryCodes = await readRecoveryCodes(tab, shot);
  await expectOn(tab, '#download-codes', 'the download link (#download-codes)');
  await tab.click('a[href$="/account"]');
  await waitForAccountOrReauth(tab, ACCOUNT_PAGE);
  if (await reauthenticateIfAsked(tab, reauth, shot)) await tab.goto(new URL('/account', tab.url()).toString());
  await expectOn(tab, ACCOUNT_PAGE, 'the account page after the recovery codes');
  await shot?.(tab, 'account-after');
  return recoveryCodes;
}

/** Names of the factors listed on the account page. */
export async function listedFactors(tab: Page): Promise<string[]> {
  return tab.locator('#factors li.factor').allInnerTexts();
}

// ---------------------------------------------------------------------------
// Whole procedures several suites share

export interface EnrolledTotp {
  secret: string;
  recoveryCodes: string[];
  /** The factors the account page lists afterwards. */
  factors: string[];
}

/**
 * A fresh browser signs the user in (password) through `rp`, opens /account
 * in a new tab, and adds an authenticator app. The context is closed after.
 */
export function enrolTotp(suite: MfaSuite, rp: RelyingParty, user: TestUser, shot?: Shot): Promise<EnrolledTotp> {
  return inAccountTab(suite, rp, user, shot, async (tab) => {
    const { secret, recoveryCodes } = await addTotpOnAccount(tab, suite.server.issuer, 'Phone', { user }, shot);
    return { secret, recoveryCodes, factors: await listedFactors(tab) };
  });
}

/** A fresh browser signs the user in with the password through `rp`, opens /account in a new tab, and runs `work` there; the context is closed after. */
async function inAccountTab<T>(suite: MfaSuite, rp: RelyingParty, user: TestUser, shot: Shot | undefined, work: (tab: Page) => Promise<T>): Promise<T> {
  const page = await newPage(suite.browser);
  try {
    const pending = await authorize(page, rp);
    await passwordStep(page, user, shot);
    await finishAuthorization(page, rp, pending, { shot });
    return await work(await openAccount(page, suite.server.issuer, { user }, shot));
  } finally {
    await page.context().close();
  }
}

/**
 * Same with a passkey: the /account tab gets a virtual authenticator
 * (resident key, user verification), the key is registered, and its
 * credentials are returned to be carried to another browser.
 */
export function enrolPasskey(suite: MfaSuite, rp: RelyingParty, user: TestUser, name: string, shot?: Shot, options: { backedUp?: boolean } = {}): Promise<{ credentials: VirtualCredential[]; recoveryCodes: string[]; factors: string[] }> {
  return inAccountTab(suite, rp, user, shot, async (tab) => {
    const authenticator = await addVirtualAuthenticator(tab, { backedUp: options.backedUp });
    const { recoveryCodes } = await addSecurityKeyOnAccount(tab, suite.server.issuer, name, { user }, shot);
    const credentials = await getCredentials(authenticator);
    if (credentials.length !== 1) throw new Error(`expected one credential in the virtual authenticator, found ${credentials.length}`);
    return { credentials, recoveryCodes, factors: await listedFactors(tab) };
  });
}
