// Shared by the hosted-page and session suites of the security checklist
// (C24-C26, C30-C34, C36, C37): a server launcher that can take a fixed
// database and an https issuer, a browser that talks to such a server as if
// through a TLS-terminating proxy, and small parsers for CSP and Set-Cookie.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { ScriptedBrowser, parseForm, signIn } from '../helpers/browser.ts';
import { freePort, NODE, ROOT, runCli, type CliResult } from '../helpers/server-process.ts';
import { createTestDatabase, TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services.ts';

export interface TestDatabase {
  url: string;
  drop: () => Promise<void>;
}

export interface LaunchedServer {
  /** The public issuer (may be https:// while the process speaks plain http). */
  issuer: string;
  /** Where requests actually go: http://localhost:<port>. */
  origin: string;
  port: number;
  env: Record<string, string>;
  output(): string;
  cli(args: string[], options?: { stdin?: string }): Promise<CliResult>;
  admin<T = Record<string, any>>(args: string[], options?: { stdin?: string }): Promise<T>;
  /** Stops the process; drops the database only if launchServer created it. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** Serve ISSUER=https://localhost:<port> with TRUST_PROXY=true (requests then need X-Forwarded-Proto: https). */
  https?: boolean;
  /** Use this database (kept on stop) instead of a fresh one (dropped on stop). */
  database?: TestDatabase;
  /** Extra environment; wins over everything else (e.g. LATCHKEY_SECRET to reuse a database). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Starts the real server (`node server/main.ts`, production mode) like
 * test/helpers/server-process.ts does, but with the issuer chosen after the
 * port is known (so it can be https) and optionally on an existing database
 * (so a second process can take over the first one's data).
 */
export async function launchServer(options: LaunchOptions = {}): Promise<LaunchedServer> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const issuer = options.https ? `https://localhost:${port}` : origin;
  const owned = options.database ? undefined : await createTestDatabase();
  const database = options.database ?? owned!;
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: issuer,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: uniqueRedisPrefix(),
    LATCHKEY_SECRET: randomBytes(32).toString('base64'),
    ...(options.https ? { TRUST_PROXY: 'true' } : {}),
    ...options.env,
  };
  const { DATABASE_URL: _d, REDIS_URL: _r, LATCHKEY_SECRET: _s, ...inherited } = process.env;
  const child = spawn(NODE, [join(ROOT, 'server', 'main.ts')], { cwd: ROOT, env: { ...inherited, ...env }, detached: true });
  let printed = '';
  child.stdout.on('data', (chunk) => { printed += chunk; });
  child.stderr.on('data', (chunk) => { printed += chunk; });
  const output = () => printed;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    await owned?.drop();
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    }
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server not healthy:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cli = (args: string[], cliOptions?: { stdin?: string }) => runCli(env, args, cliOptions);
  return {
    issuer,
    origin,
    port,
    env,
    output,
    cli,
    async admin(args, cliOptions) {
      const result = await cli([...args, '--json'], cliOptions);
      if (result.code !== 0) throw new Error(`latchkey ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
      return result.json();
    },
    stop,
  };
}

/**
 * A ScriptedBrowser for a server whose issuer is https:// but which listens on
 * plain http behind a (simulated) TLS-terminating proxy: URLs on the issuer's
 * origin go to the process over http with `X-Forwarded-Proto: https`.
 */
export class ProxiedBrowser extends ScriptedBrowser {
  readonly transport: string;

  constructor(issuer: string, transport: string) {
    super(new URL(issuer).origin);
    this.transport = transport;
  }

  override request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url, this.origin);
    if (target.origin === this.origin) {
      const transport = new URL(this.transport);
      target.protocol = transport.protocol;
      target.host = transport.host;
    }
    const headers = new Headers(init.headers);
    headers.set('x-forwarded-proto', 'https');
    return super.request(target.toString(), { ...init, headers });
  }
}

/** A browser for the server: plain for an http issuer, proxied for an https one. */
export const browserFor = (server: { issuer: string; origin?: string }): ScriptedBrowser =>
  server.origin && server.origin !== server.issuer ? new ProxiedBrowser(server.issuer, server.origin) : new ScriptedBrowser(server.issuer);

export interface AdminServer {
  admin<T = Record<string, any>>(args: string[], options?: { stdin?: string }): Promise<T>;
}

export const REDIRECT_URI = 'http://localhost:8080/cb';
export const POST_LOGOUT_REDIRECT_URI = 'http://localhost:8080/logged-out';

export interface TestClient {
  client_id: string;
  client_secret: string;
}

export async function createWebClient(server: AdminServer, options: { firstParty?: boolean; name?: string } = {}): Promise<TestClient> {
  return server.admin<TestClient>([
    'clients', 'create', '--name', options.name ?? 'Web App',
    '--grant', 'authorization_code', '--grant', 'refresh_token',
    '--redirect-uri', REDIRECT_URI,
    '--post-logout-redirect-uri', POST_LOGOUT_REDIRECT_URI,
    ...(options.firstParty ? ['--first-party'] : []),
  ]);
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
}

/** A user with a random email and a strong random password (or the given one). */
export async function createUser(server: AdminServer, options: { email?: string; password?: string } = {}): Promise<TestUser> {
  const email = options.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const password = options.password ?? `Tq-${randomBytes(12).toString('base64url')}`;
  const created = await server.admin<{ id: string }>(['users', 'create', '--email', email, '--name', 'Test User', '--password-stdin'], { stdin: password });
  return { id: created.id, email, password };
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** An authorization code request with PKCE S256, state and nonce. */
export function authorizationRequest(issuer: string, clientId: string, extra: Record<string, string> = {}): AuthorizationRequest {
  const state = randomBytes(8).toString('base64url');
  const nonce = randomBytes(8).toString('base64url');
  const codeVerifier = randomBytes(32).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid',
    state,
    nonce,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return { url: url.toString(), state, nonce, codeVerifier };
}

/** Opens an authorization request and returns the first hosted page (login, normally). */
export async function openLoginPage(browser: ScriptedBrowser, issuer: string, clientId: string, extra: Record<string, string> = {}) {
  const request = authorizationRequest(issuer, clientId, extra);
  const step = await browser.follow(request.url);
  if (step.location) throw new Error(`expected a hosted page, got a redirect to ${step.location}`);
  const uid = /\/interaction\/([^/?#]+)/.exec(step.url)?.[1];
  if (!uid) throw new Error(`expected an interaction page, got ${step.url} (${step.response.status})`);
  return { ...step, uid, request };
}

/** Signs in through the hosted pages; returns the redirect back to the client. */
export async function signInThroughPages(browser: ScriptedBrowser, issuer: string, clientId: string, user: { email: string; password: string }): Promise<URL> {
  return signIn(browser, authorizationRequest(issuer, clientId).url, { email: user.email, password: user.password });
}

/**
 * An authorization request with prompt=none sent with the browser's cookies:
 * the redirect back to the client (with `code`, or `error` such as login_required).
 */
export async function promptNone(browser: ScriptedBrowser, issuer: string, clientId: string): Promise<URL> {
  const step = await browser.follow(authorizationRequest(issuer, clientId, { prompt: 'none' }).url);
  if (!step.location) throw new Error(`prompt=none did not redirect to the client; got ${step.url} (${step.response.status}):\n${step.html.slice(0, 500)}`);
  return new URL(step.location);
}

/** A separate browser carrying a copy of `browser`'s cookies as they are now. */
export function cloneBrowser(browser: ScriptedBrowser): ScriptedBrowser {
  const copy = browser instanceof ProxiedBrowser ? new ProxiedBrowser(browser.origin, browser.transport) : new ScriptedBrowser(browser.origin);
  for (const [name, value] of browser.cookies) copy.cookies.set(name, value);
  return copy;
}

/** The code flow's token response (for an ID token to use as id_token_hint). */
export async function redeemCode(server: { issuer: string; origin?: string }, client: TestClient, code: string, codeVerifier: string): Promise<Record<string, any>> {
  const response = await fetch(new URL('/token', server.origin ?? server.issuer), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      ...(server.origin && server.origin !== server.issuer ? { 'x-forwarded-proto': 'https' } : {}),
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: codeVerifier }),
  });
  const body = await response.json() as Record<string, any>;
  if (!response.ok) throw new Error(`token request failed (${response.status}): ${JSON.stringify(body)}`);
  return body;
}

/** One CSP policy: directive name (lower case) -> its source list. */
export type CspPolicy = Map<string, string[]>;

/**
 * Parses Content-Security-Policy header values. Several headers (or a
 * comma-joined value) are several policies, each of which the browser enforces.
 */
export function parseCsp(header: string | null): CspPolicy[] {
  if (!header) return [];
  return header.split(',').map((policy) => {
    const directives: CspPolicy = new Map();
    for (const part of policy.split(';')) {
      const [name, ...values] = part.trim().split(/\s+/).filter(Boolean);
      // The first occurrence of a directive wins (CSP3 §2.2.1); later ones are ignored.
      if (name && !directives.has(name.toLowerCase())) directives.set(name.toLowerCase(), values);
    }
    return directives;
  }).filter((policy) => policy.size > 0);
}

/** The source list that governs scripts: script-src, else default-src. */
export const scriptSources = (policy: CspPolicy): string[] | undefined => policy.get('script-src') ?? policy.get('default-src');

/** Nonces ('nonce-...') in a source list. */
export const noncesIn = (sources: string[] = []): string[] =>
  sources.map((s) => /^'nonce-([^']+)'$/.exec(s)?.[1]).filter((n): n is string => Boolean(n));

export interface InlineElement {
  tag: string;
  attributes: string;
  content: string;
  nonce?: string;
}

/** Inline <script> (no src) and <style> elements of a page. */
export function inlineElements(html: string, tag: 'script' | 'style'): InlineElement[] {
  return [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>([\\s\\S]*?)</${tag}\\s*>`, 'gi'))]
    .filter((m) => tag !== 'script' || !/\bsrc\s*=/i.test(m[1]))
    .map((m) => ({
      tag,
      attributes: m[1],
      content: m[2],
      nonce: /\bnonce\s*=\s*"([^"]*)"/i.exec(m[1])?.[1] ?? /\bnonce\s*=\s*'([^']*)'/i.exec(m[1])?.[1],
    }));
}

/** Inline event handlers and javascript: URLs, which no nonce can allow. */
export const inlineHandlers = (html: string): string[] =>
  [...html.matchAll(/<[a-z][^>]*\s(on[a-z]+)\s*=/gi)].map((m) => m[1])
    .concat([...html.matchAll(/\b(?:href|action|src)\s*=\s*["']?\s*javascript:/gi)].map((m) => m[0]));

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case -> value ('' for flags). */
  attributes: Map<string, string>;
  raw: string;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair, ...rest] = header.split(';');
  const index = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const eq = attribute.indexOf('=');
    const name = (eq === -1 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    if (name) attributes.set(name, eq === -1 ? '' : attribute.slice(eq + 1).trim());
  }
  return { name: pair.slice(0, index).trim(), value: pair.slice(index + 1).trim(), attributes, raw: header };
}

export const setCookies = (response: Response): SetCookie[] => response.headers.getSetCookie().map(parseSetCookie);

/** A cookie deletion (empty value or expiry in the past), which needs no flags of its own to be safe. */
export function isDeletion(cookie: SetCookie): boolean {
  if (cookie.value === '' || cookie.attributes.get('max-age') === '0') return true;
  const expires = cookie.attributes.get('expires');
  return expires !== undefined && Date.parse(expires) < Date.now();
}

/** Runs one SQL statement against a test database. */
export async function query<T extends Record<string, any> = Record<string, any>>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The logout page, then its confirmation (logout=yes). Returns the final redirect target or page. */
export async function logOut(browser: ScriptedBrowser, issuer: string, params: Record<string, string>) {
  const url = new URL('/session/end', issuer);
  url.search = new URLSearchParams(params).toString();
  const page = await browser.follow(url.toString());
  if (page.location || page.response.status !== 200) throw new Error(`expected the logout page, got ${page.response.status} ${page.location ?? page.url}`);
  const { action, fields } = parseForm(page.html, /\/session\/end\/confirm$/);
  const done = await browser.follow(action, { method: 'POST', form: { ...fields, logout: 'yes' } });
  return { page, done };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface HostedPage {
  name: string;
  url: string;
  status: number;
  headers: Headers;
  html: string;
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function pageOf(name: string, step: { response: Response; url: string; html: string; location?: string }): Promise<HostedPage> {
  if (step.location) throw new Error(`${name}: expected a page, got a redirect to ${step.location}`);
  return { name, url: step.url, status: step.response.status, headers: step.response.headers, html: step.html };
}

/**
 * Every page a user can see on the server today, each fetched like a browser
 * would: login (fresh, and after a failed attempt), consent, logout and
 * signed-out pages, and error pages drawn by oidc-provider and by Latchkey.
 * (MFA and account pages do not exist yet.)
 */
export async function collectHostedPages(server: { issuer: string; origin?: string }, client: TestClient, user: { email: string; password: string }): Promise<HostedPage[]> {
  const pages: HostedPage[] = [];
  const browser = browserFor(server);
  const html = { accept: BROWSER_ACCEPT };

  const login = await openLoginPage(browser, server.issuer, client.client_id);
  pages.push(await pageOf('login', login));
  const form = parseForm(login.html, /\/login$/);
  pages.push(await pageOf('login after a failed attempt', await browser.follow(form.action, {
    method: 'POST', headers: { ...html, origin: browser.origin }, form: { ...form.fields, email: user.email, password: `${user.password}-wrong` },
  })));
  const consent = await browser.follow(form.action, {
    method: 'POST', headers: { ...html, origin: browser.origin }, form: { ...form.fields, email: user.email, password: user.password },
  });
  pages.push(await pageOf('consent', consent));
  const allow = parseForm(consent.html, /\/consent$/);
  const back = await browser.follow(allow.action, { method: 'POST', headers: { ...html, origin: browser.origin }, form: allow.fields });
  if (!back.location?.startsWith(REDIRECT_URI)) throw new Error(`consent did not return to the client: ${back.location ?? back.url}`);

  const formPost = await browser.follow(authorizationRequest(server.issuer, client.client_id, { prompt: 'none', response_mode: 'form_post' }).url, { headers: html });
  pages.push(await pageOf('form_post authorization response', formPost));

  const logout = await browser.follow(`/session/end?client_id=${encodeURIComponent(client.client_id)}`, { headers: html });
  pages.push(await pageOf('logout', logout));
  const confirm = parseForm(logout.html, /\/session\/end\/confirm$/);
  pages.push(await pageOf('signed out', await browser.follow(confirm.action, { method: 'POST', headers: { ...html, origin: browser.origin }, form: { ...confirm.fields, logout: 'yes' } })));
  pages.push(await pageOf('logout without a session', await browserFor(server).follow('/session/end', { headers: html })));

  pages.push(await pageOf('authorization error (unknown client)', await browserFor(server).follow(`/auth?client_id=unknown-${randomBytes(4).toString('hex')}`, { headers: html })));
  pages.push(await pageOf('interaction error (unknown interaction)', await browserFor(server).follow(`/interaction/${randomBytes(16).toString('base64url')}`, { headers: html })));
  const csrfBrowser = browserFor(server);
  const fresh = await openLoginPage(csrfBrowser, server.issuer, client.client_id);
  pages.push(await pageOf('form refused (CSRF)', await csrfBrowser.follow(`/interaction/${fresh.uid}/login`, {
    method: 'POST', headers: { ...html, origin: csrfBrowser.origin }, form: { email: user.email, password: user.password },
  })));
  return pages;
}

/** The value of the first hidden `csrf` field on a page. */
export function csrfTokenOf(html: string): string {
  const token = /<input\b[^>]*\bname="csrf"[^>]*\bvalue="([^"]*)"/i.exec(html)?.[1];
  if (!token) throw new Error(`no csrf field in page:\n${html.slice(0, 1000)}`);
  return token;
}
