// needs: postgres redis
// C26 security headers: HSTS when (and only when) the issuer is https,
// nosniff, Referrer-Policy, and a CSP with object-src 'none', base-uri 'none',
// no 'unsafe-inline' scripts, and a per-response nonce on every inline script.
// Two servers: an http issuer, and an https issuer behind a simulated
// TLS-terminating proxy (TRUST_PROXY=true, X-Forwarded-Proto: https).
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { browserFor, createUser, createWebClient } from './_support-pages.ts';
import { collectHostedPages, inlineElements, inlineHandlers, noncesIn, parseCsp, scriptSources, type HostedPage } from './_support-page-checks.ts';

interface Variant {
  server: RunningServer;
  pages: HostedPage[];
  /** Non-HTML responses: discovery, JWKS, a static asset, a token endpoint error. */
  others: { name: string; headers: Headers }[];
}

const variants: { http?: Variant; https?: Variant } = {};

// Pages oidc-provider renders itself to auto-submit a form (form_post
// authorization responses, logout without a session). Checked on their own below.
const AUTO_SUBMIT = new Set(['form_post authorization response', 'logout without a session']);

async function prepare(https: boolean): Promise<Variant> {
  const server = await startServer({ https });
  const client = await createWebClient(server);
  const user = await createUser(server);
  const pages = await collectHostedPages(server, client, user);
  const browser = browserFor(server);
  const others = [];
  for (const [name, path, init] of [
    ['discovery', '/.well-known/openid-configuration', {}],
    ['jwks', '/jwks', {}],
    ['stylesheet', '/static/latchkey.css', {}],
    ['token error', '/token', { method: 'POST', form: { grant_type: 'authorization_code', code: 'nope' } }],
  ] as const) {
    const response = await browser.request(path, init as RequestInit & { form?: Record<string, string> });
    await response.arrayBuffer();
    others.push({ name, headers: response.headers });
  }
  return { server, pages, others };
}

test.before(async () => {
  [variants.http, variants.https] = await Promise.all([prepare(false), prepare(true)]);
});
test.after.always(async () => {
  await Promise.all([variants.http?.server.stop(), variants.https?.server.stop()]);
});

const each = (fn: (variant: Variant, label: string) => void) => {
  fn(variants.http!, 'http issuer');
  fn(variants.https!, 'https issuer');
};

test('C26 HSTS with max-age of at least a year on every response when the issuer is https', (t) => {
  const { pages, others, server } = variants.https!;
  t.true(server.issuer.startsWith('https://'));
  for (const { name, headers } of [...pages, ...others]) {
    const hsts = headers.get('strict-transport-security');
    t.truthy(hsts, `${name}: no Strict-Transport-Security`);
    const maxAge = Number(/(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(hsts ?? '')?.[1] ?? -1);
    t.true(maxAge >= 31_536_000, `${name}: ${hsts}`);
  }
});

test('C26 no HSTS when the issuer is http', (t) => {
  const { pages, others, server } = variants.http!;
  t.true(server.issuer.startsWith('http://'));
  for (const { name, headers } of [...pages, ...others]) {
    t.is(headers.get('strict-transport-security'), null, name);
  }
});

test('C26 X-Content-Type-Options: nosniff and a Referrer-Policy that never leaks URLs cross-origin', (t) => {
  each(({ pages, others }, label) => {
    for (const { name, headers } of [...pages, ...others]) {
      t.is(headers.get('x-content-type-options'), 'nosniff', `${label} ${name}`);
    }
    for (const { name, headers } of pages) {
      // The last recognised token wins in browsers; all of these keep paths and queries (codes, uids) on this origin.
      const policy = (headers.get('referrer-policy') ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean).at(-1);
      t.true(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'].includes(policy ?? ''), `${label} ${name}: Referrer-Policy ${headers.get('referrer-policy')}`);
    }
  });
});

test("C26 every page's CSP has object-src 'none', base-uri 'none' and no 'unsafe-inline' for scripts", (t) => {
  each(({ pages }, label) => {
    t.true(pages.length >= 10, `${label}: ${pages.length} pages collected`);
    for (const page of pages) {
      const policies = parseCsp(page.headers.get('content-security-policy'));
      const where = `${label} ${page.name}: ${page.headers.get('content-security-policy')}`;
      t.true(policies.length > 0, `${where}: no CSP`);
      t.true(policies.some((p) => p.get('object-src')?.join(' ') === "'none'"), `${where}: object-src`);
      t.true(policies.some((p) => p.get('base-uri')?.join(' ') === "'none'"), `${where}: base-uri`);
      // Some enforced policy must restrict scripts, and none may allow inline script wholesale.
      t.true(policies.some((p) => scriptSources(p) !== undefined), `${where}: no script-src/default-src`);
      for (const policy of policies) {
        const sources = scriptSources(policy) ?? [];
        t.false(sources.includes("'unsafe-inline'"), `${where}: 'unsafe-inline' in script-src`);
        t.false(sources.some((s) => s === '*' || s === 'data:' || s === 'http:' || s === 'https:'), `${where}: script-src allows any host`);
      }
    }
  });
});

/** Every inline <script> (and <style>) carries a nonce that the CSP lists for it. */
function checkNonces(t: { true(value: boolean, message?: string): void; is(a: unknown, b: unknown, message?: string): void; deepEqual(a: unknown, b: unknown, message?: string): void }, page: HostedPage, label: string) {
  const policies = parseCsp(page.headers.get('content-security-policy'));
  const scriptNonces = policies.flatMap((p) => noncesIn(scriptSources(p)));
  const styleNonces = policies.flatMap((p) => noncesIn(p.get('style-src') ?? p.get('default-src')));
  for (const script of inlineElements(page.html, 'script')) {
    t.true(script.nonce !== undefined && scriptNonces.includes(script.nonce),
      `${label} ${page.name}: inline <script${script.attributes}> has nonce ${script.nonce ?? '(none)'}; CSP script nonces: ${scriptNonces.join(', ') || '(none)'}`);
  }
  for (const style of inlineElements(page.html, 'style')) {
    t.true(style.nonce !== undefined && styleNonces.includes(style.nonce), `${label} ${page.name}: inline <style> nonce ${style.nonce ?? '(none)'}`);
  }
  // Inline event handlers and javascript: URLs cannot carry a nonce at all.
  t.deepEqual(inlineHandlers(page.html), [], `${label} ${page.name}: inline handlers`);
}

test("C26 inline scripts and styles on Latchkey's pages carry this response's CSP nonce", (t) => {
  each(({ pages }, label) => {
    const checked = pages.filter((page) => !AUTO_SUBMIT.has(page.name));
    t.true(checked.length >= 8);
    for (const page of checked) checkNonces(t, page, label);
    // The pages do use the nonce (their <style>), so the check above is not vacuous.
    t.true(checked.every((page) => inlineElements(page.html, 'style').length > 0), `${label}: every page has an inline style`);
  });
});

test('C26 the CSP nonce is fresh for every response', (t) => {
  each(({ pages }, label) => {
    const nonces = pages.map((page) => parseCsp(page.headers.get('content-security-policy')).flatMap((p) => noncesIn(scriptSources(p))));
    t.true(nonces.every((list) => list.length === 1), `${label}: one script nonce per response`);
    const all = nonces.flat();
    t.is(new Set(all).size, all.length, `${label}: nonces repeat across responses: ${all.join(' ')}`);
    t.true(all.every((nonce) => Buffer.from(nonce, 'base64').length >= 16), `${label}: nonces of at least 128 bits`);
  });
});

test("C26 inline scripts on oidc-provider's auto-submit pages (form_post response, logout without a session) carry the CSP nonce", (t) => {
  each(({ pages }, label) => {
    const autoSubmit = pages.filter((page) => AUTO_SUBMIT.has(page.name));
    t.is(autoSubmit.length, AUTO_SUBMIT.size);
    for (const page of autoSubmit) {
      t.true(inlineElements(page.html, 'script').length > 0, `${label} ${page.name}: expected its auto-submit script`);
      checkNonces(t, page, label);
    }
  });
});
