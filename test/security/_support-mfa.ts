// Shared set-up for the second-factor security suites (C35, C38, C39, C40):
// a production-mode server that trusts X-Forwarded-For (so each scripted
// browser can act from its own client IP and the throttles of one test do
// not touch another's), users created with the admin CLI, the sign-in pages
// of the MFA contract driven step by step, /account sign-in and factor
// enrolment (TOTP codes from otplib, WebAuthn through the software
// authenticator), and the checks every suite repeats: "not signed in",
// "throttled".
import type { ExecutionContext } from 'ava';
import { randomInt } from 'node:crypto';
import { generate } from 'otplib/functional';
import { ScriptedBrowser, parseForm } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import type { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import {
  authorizationRequest, createUser, createWebClient, REDIRECT_URI,
  type AuthorizationRequest, type TestClient, type TestUser,
} from './_support-pages.ts';

export { REDIRECT_URI, type AuthorizationRequest, type TestClient, type TestUser };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest an account may be blocked (Retry-After of a per-account block), in seconds. */
export const ACCOUNT_BLOCK_MAX_SECONDS = 15 * 60;
/** The longest we accept for a per-IP block, in seconds (not in the contract; "blocks are capped"). */
export const IP_BLOCK_MAX_SECONDS = 60 * 60;
/** Wrong passwords for one account from one IP before a 429 must have come. */
export const MAX_PASSWORD_FAILURES_PER_ACCOUNT_IP = 20;
/** Wrong passwords from one IP (many accounts), or for one account (many IPs), before a 429 must have come. */
export const MAX_PASSWORD_FAILURES_WIDE = 200;
/** Wrong second factors for one account before a 429 must have come. */
export const MAX_SECOND_FACTOR_FAILURES = 20;

export const ACR_PASSWORD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';

const HTML_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

// ------------------------------------------------------------ client IPs

// 10.<random per process>.<counter>: unique within one test file (one process,
// one server), so no two browsers of a file share throttle counters by accident.
const ipPrefix = `10.${randomInt(256)}`;
let ipCounter = 0;
/** A client IP no other browser of this test file uses. */
export function uniqueIp(): string {
  const n = ++ipCounter;
  return `${ipPrefix}.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * A ScriptedBrowser acting from its own client IP (X-Forwarded-For, which the
 * server trusts with TRUST_PROXY=true), with a browser's Accept header and,
 * on POSTs, the same-origin Origin header a browser sends. Change `ip` at any
 * time to move the browser to another address.
 */
export class MfaBrowser extends ScriptedBrowser {
  ip: string;

  constructor(origin: string, ip: string = uniqueIp()) {
    super(origin);
    this.ip = ip;
  }

  override request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('x-forwarded-for')) headers.set('x-forwarded-for', this.ip);
    if (!headers.has('accept')) headers.set('accept', HTML_ACCEPT);
    const method = (init.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD' && !headers.has('origin')) headers.set('origin', this.origin);
    return super.request(url, { ...init, headers });
  }

  /** Another browser with a copy of this one's cookies as they are now, from the same IP. */
  clone(): MfaBrowser {
    const copy = new MfaBrowser(this.origin, this.ip);
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}

/** A new browser with only the remembered-device cookie of `browser` (no session): "the same browser, signed out". */
export function browserWithDeviceCookie(origin: string, browser: ScriptedBrowser, ip?: string): MfaBrowser {
  const copy = new MfaBrowser(origin, ip);
  for (const [name, value] of browser.cookies) if (/latchkey_device$/.test(name)) copy.cookies.set(name, value);
  return copy;
}

/** The remembered-device cookie's name in `browser`, if it has one. */
export const deviceCookieName = (browser: ScriptedBrowser): string | undefined =>
  [...browser.cookies.keys()].find((name) => /latchkey_device$/.test(name));

// ------------------------------------------------------------ server

export interface MfaFixture {
  server: RunningServer;
  issuer: string;
  /** Confidential code-flow client (not first-party: consent is a real step). */
  client: TestClient;
  /** A browser on the issuer from its own IP (or the given one). */
  browser(ip?: string): MfaBrowser;
  stop(): Promise<void>;
}

/**
 * Starts a production-mode server (Postgres + Redis) with TRUST_PROXY=true
 * (allowed in production with an http localhost issuer), plus `env`, and
 * registers the web client.
 */
export async function startMfaFixture(env: Record<string, string> = {}): Promise<MfaFixture> {
  const server = await startServer({ mode: 'production', env: { TRUST_PROXY: 'true', ...env } });
  try {
    const client = await createWebClient(server, { name: 'MFA Test App' });
    // Admin changes (clients) reach the running server within ~1 s.
    await sleep(1500);
    return {
      server,
      issuer: server.issuer,
      client,
      browser: (ip?: string) => new MfaBrowser(server.issuer, ip),
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

// ------------------------------------------------------------ users and factors

export interface MfaUser extends TestUser {
  /** Set once TOTP is enrolled. */
  totp?: TotpDevice;
  /** Set once a security key is enrolled (used for the second factor when there is no TOTP). */
  key?: SoftAuthenticator;
  recoveryCodes?: string[];
}

/** A user with a random email and password (admin CLI), no factors yet. */
export const newUser = async (fixture: MfaFixture): Promise<MfaUser> => createUser(fixture.server);

// ------------------------------------------------------------ TOTP

export const TOTP_PERIOD = 30;

/** The 30-second TOTP step of a time (ms since the epoch). */
export const totpStep = (ms: number = Date.now()): number => Math.floor(ms / 1000 / TOTP_PERIOD);

/** The code of `secret` for a step (SHA-1, 6 digits, 30 s, like an authenticator app). */
export const totpCodeForStep = (secret: string, step: number): Promise<string> => generate({ secret, epoch: step * TOTP_PERIOD });

/** The code of `secret` at a Unix time in seconds. */
export const totpCodeAt = (secret: string, epochSeconds: number): Promise<string> => generate({ secret, epoch: epochSeconds });

/** Waits until the current step is at least `step` (plus a small margin). */
export async function waitForStep(step: number): Promise<void> {
  const wait = step * TOTP_PERIOD * 1000 + 250 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Waits for the next step when fewer than `marginSeconds` are left in this one (so a code's offset from "now" holds until the server checks it). */
export async function awayFromStepEdge(marginSeconds = 4): Promise<void> {
  const left = (totpStep() + 1) * TOTP_PERIOD * 1000 - Date.now();
  if (left < marginSeconds * 1000) await waitForStep(totpStep() + 1);
}

/**
 * An authenticator app holding one TOTP secret. It remembers the last step it
 * gave a code for, because the server refuses a step at or before the last one
 * it accepted (replay): `freshCode` never repeats a step.
 */
export class TotpDevice {
  readonly secret: string;
  /** The last step freshCode handed out (the server may have accepted it). */
  lastStep = -Infinity;

  constructor(secret: string) {
    this.secret = secret;
  }

  /**
   * A code for a step not handed out before and inside the server's ±1 step
   * window: the current step, else the next one, else (both used) it waits for
   * the next step. Marks the step used.
   */
  async freshCode(): Promise<string> {
    for (;;) {
      const now = totpStep();
      const step = [now, now + 1].find((s) => s > this.lastStep);
      if (step !== undefined) {
        this.lastStep = step;
        return totpCodeForStep(this.secret, step);
      }
      await waitForStep(this.lastStep);
    }
  }

  /** The code for a step offset from now (does not mark anything used). */
  codeAtOffset(seconds: number): Promise<string> {
    return totpCodeAt(this.secret, Math.floor(Date.now() / 1000) + seconds);
  }

  /** A 6-digit code that is not the code of any step within ±2 of now. */
  async wrongCode(): Promise<string> {
    const now = totpStep();
    const near = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => totpCodeForStep(this.secret, now + d))));
    for (;;) {
      const guess = String(randomInt(1_000_000)).padStart(6, '0');
      if (!near.has(guess)) return guess;
    }
  }
}

// ------------------------------------------------------------ pages

/** What ScriptedBrowser.follow returns: a page, or a redirect leaving the issuer. */
export type Step = Awaited<ReturnType<ScriptedBrowser['follow']>>;

const hasAction = (html: string, suffix: string) => new RegExp(`action="[^"]*/interaction/[^"/]+/${suffix}"`).test(html);

export const isPasswordStep = (step: Step): boolean => !step.location && hasAction(step.html, 'login') && /name="password"/.test(step.html);
export const isSecondFactorStep = (step: Step): boolean =>
  !step.location && (/id="second-factor-form"/.test(step.html) || hasAction(step.html, 'second-factor'));
export const isConsentStep = (step: Step): boolean => !step.location && hasAction(step.html, 'consent');
export const isContinueStep = (step: Step): boolean => !step.location && hasAction(step.html, 'continue');
export const isEnrolStep = (step: Step): boolean => !step.location && hasAction(step.html, 'enrol/(?:totp|webauthn)');

/** The interaction uid of a sign-in page. */
export function interactionUid(step: Step): string {
  const uid = /\/interaction\/([^/?#]+)/.exec(step.url)?.[1];
  if (!uid) throw new Error(`not an interaction page: ${step.url} (${step.response.status})`);
  return uid;
}

/** One line describing a step, for assertion messages. */
export function describe(step: Step): string {
  if (step.location) return `redirect to ${step.location}`;
  const heading = /<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(step.html)?.[1]?.replace(/<[^>]+>/g, '').trim();
  const alert = /role="alert"[^>]*>([\s\S]*?)</i.exec(step.html)?.[1]?.trim();
  return `${step.response.status} ${new URL(step.url).pathname}${heading ? ` "${heading}"` : ''}${alert ? ` [${alert}]` : ''}`;
}

/** The authorization code of a redirect back to the web client, if it is one. */
export function codeOf(step: Step): string | undefined {
  if (!step.location?.startsWith(REDIRECT_URI)) return undefined;
  return new URL(step.location).searchParams.get('code') ?? undefined;
}

/** The `error` of a redirect back to the web client, if it is one. */
export function errorOf(step: Step): string | undefined {
  if (!step.location?.startsWith(REDIRECT_URI)) return undefined;
  return new URL(step.location).searchParams.get('error') ?? undefined;
}

const decodeEntities = (text: string) =>
  text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The WebAuthn options a page embeds in <script type="application/json" id="webauthn-options">. */
export function webauthnOptions<T = any>(html: string): T {
  const script = /<script\b[^>]*\bid="webauthn-options"[^>]*>([\s\S]*?)<\/script\s*>/i.exec(html)?.[1];
  if (script === undefined) throw new Error(`no #webauthn-options on the page:\n${html.slice(0, 1500)}`);
  try {
    return JSON.parse(script);
  } catch {
    return JSON.parse(decodeEntities(script));
  }
}

export const hasWebauthnOptions = (html: string): boolean => /\bid="webauthn-options"/.test(html);

/** The base32 secret shown in #totp-secret (text, or an input's value); spaces and dashes removed. */
export function totpSecretOf(html: string): string {
  const element = /<([a-z]+)\b([^>]*\bid="totp-secret"[^>]*)>([\s\S]*?)<\/\1\s*>/i.exec(html)
    ?? /<(input)\b([^>]*\bid="totp-secret"[^>]*)>()/i.exec(html);
  if (!element) throw new Error(`no #totp-secret on the page:\n${html.slice(0, 1500)}`);
  const raw = element[1].toLowerCase() === 'input' ? (/\bvalue="([^"]*)"/i.exec(element[2])?.[1] ?? '') : element[3];
  const secret = decodeEntities(raw.replace(/<[^>]+>/g, '')).replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z2-7]+=*$/.test(secret)) throw new Error(`#totp-secret is not base32: ${JSON.stringify(secret)}`);
  return secret;
}

/** The codes listed in #recovery-codes li. */
export function recoveryCodesOf(html: string): string[] {
  const list = /<([a-z]+)\b[^>]*\bid="recovery-codes"[^>]*>([\s\S]*?)<\/\1\s*>/i.exec(html)?.[2];
  if (list === undefined) return [];
  return [...list.matchAll(/<li\b[^>]*>([\s\S]*?)<\/li\s*>/gi)].map((m) => decodeEntities(m[1].replace(/<[^>]+>/g, '')).trim()).filter(Boolean);
}

/** Factor ids of the /account page (from their remove forms). */
export function factorIdsOf(html: string): string[] {
  return [...html.matchAll(/action="[^"]*\/account\/factors\/([^"/]+)\/remove"/g)].map((m) => decodeURIComponent(m[1]));
}

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
      else if (user.key && hasWebauthnOptions(step.html)) step = await submitKeyAsSecondFactor(browser, step, await user.key.authenticate(webauthnOptions(step.html)), options);
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

// ------------------------------------------------------------ throttling

/** Retry-After as whole seconds, undefined when absent or not an integer. */
export function retryAfterOf(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/**
 * A throttled answer: 429, Retry-After an integer number of seconds in
 * (0, maxSeconds], and a page saying "Too many attempts". Returns Retry-After.
 */
export function assertThrottled(t: ExecutionContext, step: Step, label: string, maxSeconds: number = ACCOUNT_BLOCK_MAX_SECONDS): number | undefined {
  t.is(step.response.status, 429, `${label}: status (${describe(step)})`);
  const header = step.response.headers.get('retry-after');
  const seconds = retryAfterOf(step.response);
  t.not(seconds, undefined, `${label}: Retry-After must be an integer number of seconds, got ${JSON.stringify(header)}`);
  if (seconds !== undefined) {
    t.true(seconds > 0, `${label}: Retry-After ${seconds} must be > 0`);
    t.true(seconds <= maxSeconds, `${label}: Retry-After ${seconds} s must be at most ${maxSeconds} s (blocks are bounded)`);
  }
  t.regex(step.html, /too many attempts/i, `${label}: the page says "Too many attempts"`);
  t.is(codeOf(step), undefined, `${label}: no code`);
  return seconds;
}

/**
 * Repeats `attempt` until it answers 429 or `max` attempts were made. Every
 * answer before the 429 must be a plain refusal (401): anything else (a code,
 * a server error) fails the test. Returns the 429 step and how many attempts
 * it took, or undefined for the step when none came.
 */
export async function attemptUntilThrottled(
  t: ExecutionContext, max: number, attempt: (index: number) => Promise<Step>, label: string,
): Promise<{ throttled?: Step; attempts: number }> {
  for (let index = 0; index < max; index++) {
    const step = await attempt(index);
    if (step.response.status === 429) return { throttled: step, attempts: index + 1 };
    if (step.response.status !== 401) {
      t.fail(`${label}: attempt ${index + 1} was not refused with 401: ${describe(step)}`);
      return { attempts: index + 1 };
    }
  }
  t.fail(`${label}: no 429 after ${max} failed attempts`);
  return { attempts: max };
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
    const registration = await authenticator.register(webauthnOptions(page.html), { userVerified: options.userVerified ?? true, backedUp: options.backedUp ?? false });
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

// ------------------------------------------------------------ /token

/** POST /token as the web client (client_secret_basic): status and JSON body, nothing thrown. */
export async function tokenRequest(fixture: MfaFixture, body: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  const { client_id: id, client_secret: secret } = fixture.client;
  const response = await fetch(new URL('/token', fixture.issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(body),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: { unparsed: text } };
  }
}

/** The payload of a JWT, unverified. */
export const jwtPayload = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/**
 * An /account change answered with a redirect to re-authenticate:
 * 302/303 to /account/reauth, or straight to /auth with max_age=0 (or
 * prompt=login). Returns the target.
 */
export async function assertReauthRedirect(t: ExecutionContext, fixture: MfaFixture, response: Response, label: string): Promise<URL | undefined> {
  const location = response.headers.get('location');
  await response.body?.cancel();
  t.true(response.status === 302 || response.status === 303, `${label}: expected a redirect to re-authenticate, got ${response.status}${location ? ` -> ${location}` : ''}`);
  if (!location) return undefined;
  const target = new URL(location, fixture.issuer);
  const reauth = target.origin === new URL(fixture.issuer).origin && (target.pathname === '/account/reauth'
    || (target.pathname === '/auth' && (target.searchParams.get('max_age') === '0' || /\blogin\b/.test(target.searchParams.get('prompt') ?? ''))));
  t.true(reauth, `${label}: the redirect goes to re-authentication (/account/reauth or /auth with max_age=0), got ${location}`);
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

/**
 * At most `n` of the wrapped functions run at once (the rest wait their turn):
 * for files with many tests that each create users and sign in, so that on a
 * small machine no test's own timeout runs while it merely waits for CPU.
 */
export function concurrencyLimit(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
