import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { securityHeaders } from '../../server/http/security-headers.ts';

async function serve(https: boolean): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.use(securityHeaders({ https }));
  app.use((ctx) => {
    ctx.body = String(ctx.state.cspNonce);
  });
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('sets the security headers and a nonce-based CSP', async (t) => {
  const { url, server } = await serve(false);
  t.teardown(() => server.close());
  const response = await fetch(url);
  const nonce = await response.text();
  t.regex(nonce, /^[A-Za-z0-9+/]{22}==$/);
  const csp = response.headers.get('content-security-policy') ?? '';
  t.is(
    csp,
    `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'nonce-${nonce}'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`,
  );
  t.false(csp.includes('form-action'), 'form-action would block the redirect to the client after login');
  t.is(response.headers.get('x-content-type-options'), 'nosniff');
  t.is(response.headers.get('referrer-policy'), 'no-referrer');
  t.is(response.headers.get('x-frame-options'), 'DENY');
  t.is(response.headers.get('cross-origin-opener-policy'), 'same-origin');
  t.is(response.headers.get('strict-transport-security'), null);
});

test('HSTS only when serving https', async (t) => {
  const { url, server } = await serve(true);
  t.teardown(() => server.close());
  const response = await fetch(url);
  t.is(response.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
});

test('the nonce differs on every request', async (t) => {
  const { url, server } = await serve(false);
  t.teardown(() => server.close());
  const nonces = await Promise.all([1, 2, 3].map(() => fetch(url).then((r) => r.text())));
  t.is(new Set(nonces).size, 3);
});
