import test from 'ava';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { formBody, parseForm } from '../../server/http/body.ts';

async function serve(limit?: number): Promise<{ url: string; port: number; server: Server }> {
  const app = new Koa();
  app.use(formBody(limit));
  app.use((ctx) => {
    ctx.body = ctx.request.body ? { ...ctx.request.body } : 'not parsed';
  });
  const handle = app.callback();
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, server };
}

test('parseForm keeps the first value and ignores prototype names', (t) => {
  const body = parseForm('a=1&a=2&b=x+y&c=%C3%A9&__proto__=p&constructor=c');
  t.is(body.a, '1');
  t.is(body.b, 'x y');
  t.is(body.c, 'é');
  t.is(body.__proto__, 'p');
  t.is(body['constructor' as string], 'c');
  t.is(Object.getPrototypeOf(body), null);
  t.deepEqual(Object.keys(parseForm('')), []);
});

test('parses urlencoded POST bodies', async (t) => {
  const { url, server } = await serve();
  t.teardown(() => server.close());
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ email: 'a@b.c', csrf: 'tok' }) });
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { email: 'a@b.c', csrf: 'tok' });
});

test('415 for other content types, empty body for bodiless POSTs, GET untouched', async (t) => {
  const { url, server } = await serve();
  t.teardown(() => server.close());
  const json = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' });
  t.is(json.status, 415);
  const empty = await fetch(url, { method: 'POST' });
  t.deepEqual(await empty.json(), {});
  const get = await fetch(url);
  t.is(await get.text(), 'not parsed');
});

test('413 beyond the limit (declared length)', async (t) => {
  const { url, server } = await serve(100);
  t.teardown(() => server.close());
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams({ a: 'x'.repeat(200) }) });
  t.is(response.status, 413);
});

test('413 beyond the limit (chunked, no declared length)', async (t) => {
  const { port, server } = await serve(100);
  t.teardown(() => server.close());
  const status = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('a=' + 'x'.repeat(80));
    req.write('x'.repeat(80));
    req.end();
  });
  t.is(status, 413);
});
