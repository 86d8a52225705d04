// The hosted pages, plus the middleware that serves them (static files, error pages).
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { errorPages } from '../../server/http/error-pages.ts';
import { staticFiles } from '../../server/http/static-files.ts';
import { consentPage } from '../../views/consent.ts';
import { errorPage } from '../../views/error.ts';
import { homePage } from '../../views/home.ts';
import type { PageContext } from '../../views/layout.ts';
import { loginPage } from '../../views/login.ts';
import { loggedOutPage, logoutPage } from '../../views/logout.ts';
import { accountPage } from '../../views/account.ts';
import { enrolPage } from '../../views/enrol.ts';
import { recoveryUsedPage } from '../../views/recovery-codes.ts';
import { secondFactorPage } from '../../views/second-factor.ts';
import { throttledMessage } from '../../server/interactions/throttled.ts';
import { ACCOUNT_CLIENT_ID, signInClientSettings } from '../../server/oidc/account-client.ts';
import type { Factor } from '../../server/mfa/types.ts';
import { rawHttp } from '../helpers/raw-http.ts';

const ctx: PageContext = { productName: 'Acme ID', brandColor: '#123abc', nonce: 'bm9uY2U=' };
const EVIL = '<img src=x onerror="alert(1)">';
const OP_FORM = '<form id="op.logoutForm" method="post" action="/session/end/confirm"><input type="hidden" name="xsrf" value="abc"/></form>';

const forms = (page: string) => page.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
const attr = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

function assertAccessible(t: import('ava').ExecutionContext, page: string) {
  t.true(page.startsWith('<!doctype html>'));
  t.regex(page, /<html lang="en">/);
  t.regex(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  t.regex(page, /<link rel="stylesheet" href="\/static\/latchkey.css">/);
  t.regex(page, /<main\b/);
  t.regex(page, /<header\b[^>]*>[\s\S]*Acme ID[\s\S]*<\/header>/);
  t.notRegex(page, /https?:\/\//, 'no external resources');
  for (const form of forms(page)) t.regex(form, /<input type="hidden" name="(csrf|xsrf)" value="[^"]+"/);
  // Every visible input has a label tied to it, and every label points at an input.
  const inputs = (page.match(/<input\b[^>]*>/g) ?? []).filter((tag) => attr(tag, 'type') !== 'hidden');
  for (const input of inputs) t.true(page.includes(`<label for="${attr(input, 'id')}">`), input);
  for (const [, id] of page.matchAll(/<label for="([^"]+)">/g)) t.regex(page, new RegExp(`<input id="${id}"`));
  for (const tag of page.match(/<(script|style)\b[^>]*>/g) ?? []) t.is(attr(tag, 'nonce'), ctx.nonce, tag);
  t.notRegex(page, /\sstyle="/, 'inline style attributes are blocked by the CSP');
}

test('layout sets the brand colour in a nonced style and refuses non-colours', (t) => {
  const page = loginPage(ctx, { action: '/i/1/login', csrfToken: 'tok' });
  t.true(page.includes('<style nonce="bm9uY2U=">:root{--brand:#123abc}</style>'));
  const hostile = loginPage({ ...ctx, brandColor: 'red}body{display:none' }, { action: '/a', csrfToken: 'tok' });
  t.true(hostile.includes(':root{--brand:#2f5bd3}'));
  t.true(loginPage({ ...ctx, lang: 'de' }, { action: '/a', csrfToken: 'tok' }).includes('<html lang="de">'));
});

test('login page', (t) => {
  const page = loginPage(ctx, { action: '/interaction/abc/login', csrfToken: 'tok', clientName: EVIL, email: `a"@b.c`, error: EVIL });
  assertAccessible(t, page);
  t.regex(page, /<form method="post" action="\/interaction\/abc\/login">/);
  t.regex(page, /<input id="email" name="email" type="email" autocomplete="username"/);
  t.regex(page, /<input id="password" name="password" type="password" autocomplete="current-password"/);
  t.regex(page, /<p class="alert" id="login-error" role="alert">&lt;img/);
  t.true(page.includes('value="a&quot;@b.c"'));
  t.false(page.includes(EVIL));
  t.regex(page, /<button type="submit"/);
  t.notRegex(loginPage(ctx, { action: '/a', csrfToken: 'tok' }), /role="alert"/);
});

test('consent page lists scopes, claims and resources with Allow and Deny forms', (t) => {
  const page = consentPage(ctx, {
    action: '/interaction/abc/confirm',
    abortAction: '/interaction/abc/abort',
    csrfToken: 'tok',
    clientName: EVIL,
    scopes: ['openid', 'profile', 'email', 'offline_access', '<custom>'],
    claims: ['name', 'nickname'],
    resources: [{ identifier: 'https://api.example/<x>', scopes: ['read:things'] }],
    accountEmail: 'me@example.com',
  }).replace(/https:\/\/api.example/g, 'api'); // the resource id is the only URL expected
  assertAccessible(t, page);
  t.false(page.includes(EVIL));
  t.true(page.includes('me@example.com'));
  for (const text of ['Confirm your identity', 'See your name', 'See your email address', 'Stay connected', '“&lt;custom&gt;”', 'Your name', '“nickname”', 'api/&lt;x&gt;', 'read:things']) {
    t.true(page.includes(text), text);
  }
  const [allow = '', deny = ''] = forms(page);
  t.regex(allow, /action="\/interaction\/abc\/confirm"[\s\S]*>Allow</);
  t.regex(deny, /action="\/interaction\/abc\/abort"[\s\S]*>Deny</);
  t.notRegex(consentPage(ctx, { action: '/a', abortAction: '/b', csrfToken: 't', clientName: 'App', scopes: ['openid'], claims: [] }), />0</);
});

test('logout pages', (t) => {
  const page = logoutPage(ctx, { formHtml: OP_FORM, clientName: EVIL });
  assertAccessible(t, page);
  t.true(page.includes(OP_FORM));
  t.false(page.includes(EVIL));
  t.regex(page, /<button type="submit" class="button primary" form="op.logoutForm" name="logout" value="yes"/);
  t.regex(page, /<button type="submit" class="button secondary" form="op.logoutForm">Stay signed in</);
  const done = loggedOutPage(ctx, { clientName: EVIL });
  assertAccessible(t, done);
  t.false(done.includes(EVIL));
  t.true(loggedOutPage(ctx, {}).includes('You have signed out.'));
});

test('home page links to the account page and the discovery document, naming the product escaped', (t) => {
  const page = homePage({ ...ctx, productName: EVIL });
  t.false(page.includes(EVIL));
  const plain = homePage(ctx);
  assertAccessible(t, plain);
  t.regex(plain, /<a href="\/account">/);
  t.regex(plain, /<a href="\/\.well-known\/openid-configuration">/);
  t.regex(plain, /Acme ID signs people in/);
});

test('error page escapes the message', (t) => {
  const page = errorPage(ctx, { title: 'Oops', message: EVIL, status: 400 });
  assertAccessible(t, page);
  t.false(page.includes(EVIL));
  t.true(page.includes('Error 400'));
});

async function serve(app: Koa): Promise<{ url: string; server: Server }> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('static files: css served with type and cache headers; traversal and unknown files fall through', async (t) => {
  const app = new Koa();
  app.use(staticFiles());
  app.use((c) => {
    c.status = 404;
    c.body = 'fallthrough';
  });
  const { url, server } = await serve(app);
  t.teardown(() => server.close());
  const css = await fetch(`${url}/static/latchkey.css`);
  t.is(css.status, 200);
  t.is(css.headers.get('content-type'), 'text/css; charset=utf-8');
  t.is(css.headers.get('cache-control'), 'public, max-age=3600');
  t.regex(await css.text(), /--brand/);
  const again = await fetch(`${url}/static/latchkey.css`, { headers: { 'If-None-Match': css.headers.get('etag') ?? '', 'Cache-Control': 'max-age=0' } });
  t.is(again.status, 304);
  const head = await fetch(`${url}/static/latchkey.css`, { method: 'HEAD' });
  t.is(head.status, 200);
  for (const path of ['/static/..%2Flogin.ts', '/static/%2e%2e/login.ts', '/static/missing.css', '/static/', '/static/%E0%A4%A', '/static/..%2f..%2fpackage.json']) {
    const response = await fetch(url + path);
    t.is(await response.text(), 'fallthrough', path);
  }
  t.is(await fetch(`${url}/static/latchkey.css`, { method: 'POST' }).then((r) => r.text()), 'fallthrough');
});

test('error pages: exposed 4xx message, generic 5xx, JSON on request', async (t) => {
  const app = new Koa();
  const logged: unknown[] = [];
  app.on('error', (err) => logged.push(err));
  app.use(errorPages(() => ctx));
  app.use((c) => {
    if (c.path === '/forbidden') c.throw(403, 'Form expired');
    if (c.path === '/limited') c.throw(429, 'Slow down', { headers: { 'Retry-After': '30' } });
    throw new Error('database password is hunter2');
  });
  const { url, server } = await serve(app);
  t.teardown(() => server.close());

  const forbidden = await fetch(`${url}/forbidden`, { headers: { Accept: 'text/html' } });
  t.is(forbidden.status, 403);
  t.regex(forbidden.headers.get('content-type') ?? '', /text\/html/);
  t.regex(await forbidden.text(), /role="alert">Form expired</);

  const limited = await fetch(`${url}/limited`);
  t.is(limited.headers.get('retry-after'), '30');

  const crash = await fetch(`${url}/boom`, { headers: { Accept: 'text/html' } });
  t.is(crash.status, 500);
  const body = await crash.text();
  t.false(body.includes('hunter2'));
  t.regex(body, /An unexpected error occurred/);
  t.is(logged.length, 1);

  const json = await fetch(`${url}/forbidden`, { headers: { Accept: 'application/json' } });
  t.deepEqual(await json.json(), { error: 'access_denied', error_description: 'Form expired' });
  const jsonCrash = await fetch(`${url}/boom`, { headers: { Accept: 'application/json' } });
  t.deepEqual(await jsonCrash.json(), { error: 'server_error', error_description: 'An unexpected error occurred. Please try again later.' });
  // An API client that sends no Accept at all gets JSON too (browsers always send one).
  const bare = await rawHttp(Number(new URL(url).port), { target: '/boom' });
  t.is(bare.status, 500);
  t.deepEqual(JSON.parse(bare.body), { error: 'server_error', error_description: 'An unexpected error occurred. Please try again later.' });
});

// ------------------------------------------------------------ wording

const text = (page: string) => page.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

test('the account page\'s sign-in reads "continue to your account"', async (t) => {
  const settings = await signInClientSettings({ findById: async () => undefined } as never, ACCOUNT_CLIENT_ID);
  const page = loginPage(ctx, { action: '/a', csrfToken: 'tok', clientName: settings.name });
  t.regex(text(page), /Sign in to continue to your account\./);
});

test('counts are in the singular for one: recovery codes left, remembered days, waiting time', (t) => {
  const next = { link: '/account' };
  t.regex(text(recoveryUsedPage(ctx, 1, next)), /You have 1 recovery code left\./);
  t.regex(text(recoveryUsedPage(ctx, 9, next)), /You have 9 recovery codes left\./);
  const page = (rememberDays: number) => secondFactorPage(ctx, { action: '/a', abortAction: '/b', csrfToken: 'tok', accountEmail: 'a@b.c', hasTotp: true, rememberDays });
  t.regex(text(page(1)), /Remember this device for 1 day /);
  t.regex(text(page(30)), /Remember this device for 30 days /);
  t.is(throttledMessage(1), 'Too many attempts. Try again in 1 second.');
  t.is(throttledMessage(45), 'Too many attempts. Try again in 45 seconds.');
  t.is(throttledMessage(90), 'Too many attempts. Try again in 1 minute.');
  t.is(throttledMessage(150), 'Too many attempts. Try again in 3 minutes.');
});

const factor = (name: string, kind: Factor['kind'], synced?: boolean): Factor =>
  ({ id: name, kind, name, createdAt: new Date('2024-01-02'), lastUsedAt: null, synced });

test('account page: a default factor name is not followed by the same kind; recovery codes explained without jargon', (t) => {
  const params = { email: 'a@b.c', csrfToken: 'tok', recoveryLeft: 10, devices: [], activity: [], signOutUrl: '/session/end' };
  const page = accountPage(ctx, { ...params, factors: [factor('Authenticator app', 'totp'), factor('Phone', 'totp'), factor('Security key', 'webauthn'), factor('Security key', 'webauthn', true)] });
  const items = (page.match(/<li class="factor"[\s\S]*?<\/li>/g) ?? []).map(text);
  t.is(items.length, 4);
  t.is(items[0].match(/Authenticator app/g)?.length, 1, items[0]);
  t.regex(items[1], /Phone Authenticator app · Added 2024-01-02/);
  t.notRegex(items[2], /Security key or passkey/, items[2]);
  t.regex(items[3], /Passkey \(synced\)/, 'a synced passkey still says so');
  const none = text(accountPage(ctx, { ...params, factors: [] }));
  t.notRegex(none, /first second step/);
  t.regex(none, /You get recovery codes when you add your first authenticator app or security key\./);
});

test('set-up page inside sign-in: the two name fields have different labels', (t) => {
  const page = enrolPage(ctx, {
    totp: { action: '/i/1/enrol/totp', csrfToken: 'tok', secret: 'ABCDEFGHIJKLMNOP', qrSvg: '<svg></svg>' },
    key: { action: '/i/1/enrol/webauthn', csrfToken: 'tok' },
    webauthnOptions: {},
    abort: { action: '/i/1/abort', csrfToken: 'tok' },
  });
  const labels = [...page.matchAll(/<label for="[^"]+">([^<]*)<\/label>/g)].map((m) => m[1]);
  t.is(new Set(labels).size, labels.length, labels.join(' | '));
  t.false(labels.includes('Name'));
});

// ------------------------------------------------------------ errors tied to their field, QR code text

const tag = (page: string, id: string) => new RegExp(`<(?:input|button)\\b[^>]*\\bid="${id}"[^>]*>`).exec(page)?.[0] ?? '';
const tiedTo = (page: string, id: string, errorId: string) => {
  const control = tag(page, id);
  return control.includes(`aria-describedby="${errorId}"`) && page.includes(`id="${errorId}" role="alert"`);
};

test('second-factor page: the error is tied to the field it is about, as on the login page', (t) => {
  const base = { action: '/i/1/second-factor', abortAction: '/i/1/abort', csrfToken: 'tok', accountEmail: 'a@b.c', hasTotp: true, webauthnOptions: {} };
  const code = secondFactorPage(ctx, { ...base, problem: { message: 'wrong', fields: ['code'] } });
  t.true(tiedTo(code, 'code', 'form-error'), tag(code, 'code'));
  t.regex(tag(code, 'code'), /aria-invalid="true"/);
  t.notRegex(tag(code, 'recovery-code'), /aria-/);
  t.notRegex(code, /<details class="recovery" open/);

  const recovery = secondFactorPage(ctx, { ...base, problem: { message: 'wrong', fields: ['recovery_code'] } });
  t.true(tiedTo(recovery, 'recovery-code', 'form-error'), tag(recovery, 'recovery-code'));
  t.regex(tag(recovery, 'recovery-code'), /aria-invalid="true"/);
  t.notRegex(tag(recovery, 'code'), /aria-/);
  t.regex(recovery, /<details class="recovery" open>/, 'the recovery part is open to show its field');

  const key = secondFactorPage(ctx, { ...base, problem: { message: 'refused', fields: ['key'] } });
  t.true(tiedTo(key, 'security-key', 'form-error'), tag(key, 'security-key'));
  t.notRegex(tag(key, 'security-key'), /aria-invalid/, 'a button is not "invalid"');

  t.notRegex(secondFactorPage(ctx, base), /aria-invalid|aria-describedby/);
});

test('set-up pages: errors tied to the code field and the key button; the QR code has a text alternative', (t) => {
  const setup = { action: '/i/1/enrol/totp', csrfToken: 'tok', secret: 'ABCDEFGHIJKLMNOP', qrSvg: '<svg viewBox="0 0 1 1"></svg>' };
  const abort = { action: '/i/1/abort', csrfToken: 'tok' };
  const page = enrolPage(ctx, { totp: { ...setup, error: 'wrong code' }, key: { action: '/i/1/enrol/webauthn', csrfToken: 'tok', error: 'refused' }, webauthnOptions: {}, abort });
  t.true(tiedTo(page, 'totp-code', 'totp-error'), tag(page, 'totp-code'));
  t.regex(tag(page, 'totp-code'), /aria-invalid="true"/);
  t.true(tiedTo(page, 'register-key', 'key-error'), tag(page, 'register-key'));
  const qr = /<div class="qr" id="totp-qr"[^>]*>/.exec(page)?.[0] ?? '';
  t.regex(qr, /role="img"/);
  t.regex(qr, /aria-label="[^"]*QR code[^"]+"/);
  const clean = enrolPage(ctx, { totp: setup, key: { action: '/i/1/enrol/webauthn', csrfToken: 'tok' }, webauthnOptions: {}, abort });
  t.notRegex(clean, /aria-invalid|aria-describedby/);
});

test('second-factor and set-up pages: "Use another account" ends the sign-in (abort form with CSRF), and say what to do without a device', (t) => {
  const second = secondFactorPage(ctx, { action: '/interaction/abc/second-factor', abortAction: '/interaction/abc/abort', csrfToken: 'tok', accountEmail: 'a@b.c', hasTotp: true });
  const enrol = enrolPage(ctx, {
    totp: { action: '/interaction/abc/enrol/totp', csrfToken: 'tok', secret: 'ABCDEFGHIJKLMNOP', qrSvg: '<svg></svg>' },
    key: { action: '/interaction/abc/enrol/webauthn', csrfToken: 'tok' },
    webauthnOptions: {},
    abort: { action: '/interaction/abc/abort', csrfToken: 'tok' },
  });
  for (const page of [second, enrol]) {
    const abort = forms(page).find((form) => attr(form, 'action') === '/interaction/abc/abort') ?? '';
    t.regex(abort, /<form method="post" action="\/interaction\/abc\/abort"/);
    t.regex(abort, /<input type="hidden" name="csrf" value="tok">/);
    t.regex(abort, /<button type="submit"[^>]*>Use another account<\/button>/);
  }
  t.regex(text(second), /No device and no recovery codes\? Ask an administrator .*latchkey users reset-mfa/);
  t.regex(text(enrol), /Ask an administrator/);
});
