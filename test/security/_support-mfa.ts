// Shared set-up for the second-factor security suites (C35, C38, C39, C40):
// a production-mode server that trusts X-Forwarded-For (so each scripted
// browser can act from its own client IP and the throttles of one test do
// not touch another's), users created with the admin CLI, parsers and checks
// for the sign-in and /account pages, and the checks every suite repeats:
// "throttled". TOTP codes are in _support-mfa-totp.ts; driving the sign-in
// pages and /account is in _support-mfa-flow.ts.
import type { ExecutionContext } from 'ava';
import { randomInt } from 'node:crypto';
import { ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import type { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import {
  createUser, createWebClient, REDIRECT_URI,
  type AuthorizationRequest, type TestClient, type TestUser,
} from './_support-pages.ts';
import { sleep, type TotpDevice } from './_support-mfa-totp.ts';

export { REDIRECT_URI, type AuthorizationRequest, type TestClient, type TestUser };

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
