// Real Chromium for the MFA suites: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), CDP virtual WebAuthn
// authenticators, full-page screenshots under test/artifacts/, the
// authorization code flow with openid-client (the browser navigates, a tiny
// loopback server answers the redirect URI, openid-client redeems the code),
// and TOTP codes that never repeat a 30 s step.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import * as client from 'openid-client';
import { generate } from 'otplib';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { ROOT } from './server-process.ts';

export type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = join(ROOT, 'test', 'artifacts');

/** Headless Chromium from the system package. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A page in a fresh context (own cookies: a new "browser" for the server). */
export async function newPage(browser: Browser, options: { timeoutMs?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  context.setDefaultTimeout(options.timeoutMs ?? 15_000);
  context.setDefaultNavigationTimeout(30_000);
  return context.newPage();
}

/** A second tab in the same context (same cookies, so the same server session). */
export async function newTab(page: Page): Promise<Page> {
  return page.context().newPage();
}

// ---------------------------------------------------------------------------
// Virtual WebAuthn authenticators (CDP WebAuthn domain). They belong to one
// page (target); to use a passkey in another page, copy its credentials.

/** A credential as CDP's WebAuthn.getCredentials returns it (binary fields base64). */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
  largeBlob?: string;
  backupEligibility?: boolean;
  backupState?: boolean;
  userName?: string;
  userDisplayName?: string;
}

export interface VirtualAuthenticatorOptions {
  hasResidentKey?: boolean;
  hasUserVerification?: boolean;
  isUserVerified?: boolean;
  transport?: 'usb' | 'nfc' | 'ble' | 'cable' | 'internal';
  /** Backup eligible + backed up (a synced passkey, amr swk); default false (device-bound, hwk). */
  backedUp?: boolean;
}

export interface VirtualAuthenticator {
  authenticatorId: string;
  cdp: CDPSession;
}

export async function addVirtualAuthenticator(page: Page, options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const {
    hasResidentKey = true, hasUserVerification = true, isUserVerified = true, transport = 'internal', backedUp = false,
  } = options;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport,
      hasResidentKey,
      hasUserVerification,
      isUserVerified,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: backedUp,
      defaultBackupState: backedUp,
    },
  });
  return { authenticatorId, cdp };
}

export async function getCredentials(authenticator: VirtualAuthenticator): Promise<VirtualCredential[]> {
  const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', { authenticatorId: authenticator.authenticatorId });
  return credentials as VirtualCredential[];
}

/** Puts credentials (e.g. from another page's authenticator) into this authenticator. */
export async function addCredentials(authenticator: VirtualAuthenticator, credentials: VirtualCredential[]): Promise<void> {
  for (const credential of credentials) {
    await authenticator.cdp.send('WebAuthn.addCredential', { authenticatorId: authenticator.authenticatorId, credential });
  }
}

/** A new authenticator on `page` holding `credentials` (the same passkeys, "carried" to another browser). */
export async function authenticatorWith(page: Page, credentials: VirtualCredential[], options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const authenticator = await addVirtualAuthenticator(page, options);
  await addCredentials(authenticator, credentials);
  return authenticator;
}

export async function removeAuthenticator(authenticator: VirtualAuthenticator): Promise<void> {
  await authenticator.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: authenticator.authenticatorId });
  await authenticator.cdp.detach().catch(() => {});
}

// ---------------------------------------------------------------------------
// Screenshots

/** Full-page PNG at test/artifacts/<name>.png; returns the path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^a-zA-Z0-9._-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Numbered screenshots for one test: `shots(page, 'login')` -> <prefix>-01-login.png. */
export function screenshots(prefix: string): (page: Page, name: string) => Promise<string> {
  let n = 0;
  return (page, name) => screenshot(page, `${prefix}-${String(++n).padStart(2, '0')}-${name}`);
}

/** A short description of where the page is, for error messages. */
export async function describePage(page: Page): Promise<string> {
  const text = await page.locator('body').innerText({ timeout: 2000 }).catch(() => '(no body)');
  return `${page.url()}\n${text.replace(/\n{2,}/g, '\n').slice(0, 800)}`;
}

/** Waits for a selector; the error says which page the browser was on instead. */
export async function expectOn(page: Page, selector: string, what: string, timeoutMs = 15_000): Promise<void> {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    throw new Error(`expected ${what} (${selector}), but the browser is on:\n${await describePage(page)}`);
  }
}

// ---------------------------------------------------------------------------
// The redirect URI: a loopback HTTP server that answers 200 to anything.

export interface CallbackServer {
  /** http://127.0.0.1:<port>/callback: register it for the clients. */
  redirectUri: string;
  close(): Promise<void>;
}

export async function startCallbackServer(): Promise<CallbackServer> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end('<!doctype html><title>Callback</title><p>Back at the client.</p>');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// ---------------------------------------------------------------------------
// The authorization code flow with openid-client, the browser in between.

export interface RelyingParty {
  clientId: string;
  config: client.Configuration;
  redirectUri: string;
}

export interface AuthorizationParameters {
  scope?: string;
  acr_values?: string;
  max_age?: number;
  prompt?: string;
  [parameter: string]: string | number | undefined;
}

export interface PendingAuthorization {
  url: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
  maxAge?: number;
}

export interface IdTokenClaims extends client.IDToken {
  acr?: string;
  amr?: string[];
  auth_time?: number;
}

export interface CodeFlowResult {
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  claims: IdTokenClaims;
  /** The callback URL the browser arrived at. */
  callback: URL;
  /** Whether a consent page was approved on the way. */
  consentShown: boolean;
}

/** Builds the authorization URL (PKCE S256, state, nonce) and opens it in the page. */
export async function authorize(page: Page, rp: RelyingParty, parameters: AuthorizationParameters = {}): Promise<PendingAuthorization> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined) extra[key] = String(value);
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  await page.goto(url.toString());
  return { url, codeVerifier, state, nonce, maxAge: parameters.max_age };
}

const atCallback = (rp: RelyingParty) => (url: URL) => `${url.origin}${url.pathname}` === rp.redirectUri;

/** Waits until the browser is at the redirect URI; returns that URL (code, or error and state). */
export async function waitForCallback(page: Page, rp: RelyingParty, timeoutMs = 15_000): Promise<URL> {
  try {
    await page.waitForURL(atCallback(rp), { timeout: timeoutMs });
  } catch {
    throw new Error(`the browser did not return to the client (${rp.redirectUri}); it is on:\n${await describePage(page)}`);
  }
  return new URL(page.url());
}

/**
 * Waits until the browser is back at the redirect URI (approving a consent
 * page on the way, when one shows up) and redeems the code with openid-client.
 */
export async function finishAuthorization(
  page: Page,
  rp: RelyingParty,
  pending: PendingAuthorization,
  options: { shot?: (page: Page, name: string) => Promise<unknown>; timeoutMs?: number } = {},
): Promise<CodeFlowResult> {
  const timeout = options.timeoutMs ?? 15_000;
  const isCallback = atCallback(rp);
  const consent = page.locator('form[action$="/consent"] button[type="submit"]');
  let consentShown = false;
  for (let pages = 0; pages < 3 && !isCallback(new URL(page.url())); pages++) {
    try {
      await Promise.race([page.waitForURL(isCallback, { timeout }), consent.waitFor({ state: 'visible', timeout })]);
    } catch {
      throw new Error(`the browser did not return to the client (${rp.redirectUri}); it is on:\n${await describePage(page)}`);
    }
    if (!isCallback(new URL(page.url())) && await consent.isVisible()) {
      await options.shot?.(page, 'consent');
      consentShown = true;
      await consent.click();
    }
  }
  const callback = new URL(page.url());
  if (!isCallback(callback)) throw new Error(`the browser did not return to the client; it is on:\n${await describePage(page)}`);
  const tokens = await client.authorizationCodeGrant(rp.config, callback, {
    pkceCodeVerifier: pending.codeVerifier,
    expectedState: pending.state,
    expectedNonce: pending.nonce,
    idTokenExpected: true,
    ...(pending.maxAge !== undefined ? { maxAge: pending.maxAge } : {}),
  });
  return { tokens, claims: tokens.claims() as IdTokenClaims, callback, consentShown };
}

/** authorize, let `drive` work the hosted pages, then finishAuthorization. */
export async function codeFlow(
  page: Page,
  rp: RelyingParty,
  parameters: AuthorizationParameters,
  drive: (page: Page) => Promise<void>,
  options: { shot?: (page: Page, name: string) => Promise<unknown> } = {},
): Promise<CodeFlowResult> {
  const pending = await authorize(page, rp, parameters);
  await drive(page);
  return finishAuthorization(page, rp, pending, options);
}

// ---------------------------------------------------------------------------
// TOTP (SHA-1, 6 digits, 30 s). The server refuses a step at or before the
// last one it accepted for the factor and accepts ±1 step, so each code we
// hand out is for a step after the last one handed out for that secret: the
// current step, else the next one (valid now, via the +1 window), else we wait.

const PERIOD = 30;
const lastStepUsed = new Map<string, number>();

/** Base32 secret as shown on a page ("ABCD EFGH ..."): no spaces, upper case. */
export const normalizeSecret = (shown: string): string => shown.replace(/[\s-]+/g, '').toUpperCase();

/** The code for the step containing `epochSeconds`. */
export function totpAt(secret: string, epochSeconds: number): Promise<string> {
  return generate({ secret: normalizeSecret(secret), epoch: epochSeconds });
}

/** A code for a step not yet used with this secret (may wait up to one step). */
export async function nextTotp(secret: string): Promise<string> {
  const key = normalizeSecret(secret);
  for (;;) {
    const nowSeconds = Date.now() / 1000;
    const current = Math.floor(nowSeconds / PERIOD);
    const step = Math.max(current, (lastStepUsed.get(key) ?? -Infinity) + 1);
    // The next step is fine while the current one has > 2 s left; later, wait.
    if (step === current || (step === current + 1 && (current + 1) * PERIOD - nowSeconds > 2)) {
      lastStepUsed.set(key, step);
      return totpAt(key, step * PERIOD + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, ((current + 1) * PERIOD - nowSeconds) * 1000 + 200));
  }
}

/** Six digits that are not a valid code right now (not the code of step -1, 0 or +1). */
export async function wrongTotp(secret: string): Promise<string> {
  const current = Math.floor(Date.now() / 1000 / PERIOD);
  const valid = new Set(await Promise.all([-1, 0, 1, 2].map((d) => totpAt(secret, (current + d) * PERIOD + 1))));
  for (let candidate = 123456; ; candidate = (candidate + 111111) % 1_000_000) {
    const code = String(candidate).padStart(6, '0');
    if (!valid.has(code)) return code;
  }
}
