import test from 'ava';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { formBody } from '../../server/http/body.ts';
import { csrfGuard, csrfToken, requireSameOrigin, verifyCsrf } from '../../server/http/csrf.ts';

const key = randomBytes(32);
const ISSUER = 'https://auth.example.test';

async function serve(app: Koa): Promise<{ url: string; server: Server }> {
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('a token verifies only for its binding and key', (t) => {
  const token = csrfToken(key, 'interaction-1');
  t.regex(token, /^[A-Za-z0-9_-]{43}$/);
  t.is(csrfToken(key, 'interaction-1'), token);
  t.true(verifyCsrf(key, 'interaction-1', token));
  t.false(verifyCsrf(key, 'interaction-2', token));
  t.false(verifyCsrf(randomBytes(32), 'interaction-1', token));
});

test('tampered, absent or non-string tokens are refused', (t) => {
  const token = csrfToken(key, 'uid');
  t.false(verifyCsrf(key, 'uid', token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')));
  t.false(verifyCsrf(key, 'uid', ''));
  t.false(verifyCsrf(key, 'uid', undefined));
  t.false(verifyCsrf(key, 'uid', [token]));
  t.false(verifyCsrf(key, '', csrfToken(key, '')));
});

test('requireSameOrigin refuses other origins and cross-site fetches', async (t) => {
  const app = new Koa();
  app.use(requireSameOrigin(ISSUER));
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const { url, server } = await serve(app);
  t.teardown(() => server.close());
  const post = (headers: Record<string, string>, method = 'POST') => fetch(url, { method, headers }).then((r) => r.status);

  t.is(await post({ Origin: ISSUER }), 200);
  t.is(await post({ Origin: 'https://evil.example' }), 403);
  t.is(await post({ Origin: 'https://auth.example.test:8443' }), 403);
  t.is(await post({ Origin: 'https://evil.example' }, 'DELETE'), 403);
  t.is(await post({ 'Sec-Fetch-Site': 'cross-site' }), 403);
  t.is(await post({ 'Sec-Fetch-Site': 'same-site' }), 403);
  t.is(await post({ 'Sec-Fetch-Site': 'same-origin' }), 200);
  // Referrer-Policy no-referrer makes browsers send Origin: null on same-origin POSTs.
  t.is(await post({ Origin: 'null', 'Sec-Fetch-Site': 'same-origin' }), 200);
  t.is(await post({ Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }), 403);
  t.is(await post({}), 200); // non-browser clients: the CSRF token still applies
  t.is(await fetch(url, { headers: { Origin: 'https://evil.example' } }).then((r) => r.status), 200); // GET is safe
});

test('csrfGuard checks the form token against the binding', async (t) => {
  const app = new Koa();
  app.use(formBody());
  app.use(csrfGuard(key, (ctx) => ctx.get('X-Binding') || undefined));
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  const { url, server } = await serve(app);
  t.teardown(() => server.close());
  const post = (binding: string, form: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'X-Binding': binding }, body: new URLSearchParams(form) }).then((r) => r.status);

  t.is(await post('uid-1', { csrf: csrfToken(key, 'uid-1') }), 200);
  t.is(await post('uid-2', { csrf: csrfToken(key, 'uid-1') }), 403);
  t.is(await post('uid-1', {}), 403);
  t.is(await post('', { csrf: csrfToken(key, '') }), 403);
});
