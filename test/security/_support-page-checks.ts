// Checks over hosted pages for the C24-C26, C30-C34 suites: CSP and
// Set-Cookie parsers, inline element scanners, and a tour of every page.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ScriptedBrowser, parseForm } from '../helpers/browser.ts';
import { authorizationRequest, browserFor, openLoginPage, REDIRECT_URI, type TestClient } from './_support-pages.ts';

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
