// Request ids and the access log: which incoming ids are kept, that every
// line logged while a request is handled carries its id (and no other line
// does), and what an access line holds.
import test from 'ava';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { accessLog, recordClientId } from '../../server/http/access-log.ts';
import { observeRequestEnd } from '../../server/http/request-end.ts';
import { assignRequestId, outsideRequests, requestIdOf, runWithRequestId } from '../../server/http/request-id.ts';
import { recordRoute } from '../../server/http/route-template.ts';
import { createLogger } from '../../server/logging/logger.ts';

type Line = Record<string, unknown>;

/** The server's logger, writing into `lines`. */
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger = createLogger('info', { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { logger, lines };
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer((req, res) => runWithRequestId(assignRequestId(req, res), handler, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a well-formed incoming X-Request-Id is kept; anything else gets a new id', async (t) => {
  const { server, url } = await serve((req, res) => res.end(requestIdOf(req)));
  t.teardown(() => server.close());
  const idFor = async (offered?: string) => {
    const response = await fetch(url, { headers: offered === undefined ? {} : { 'x-request-id': offered } });
    const body = await response.text();
    t.is(response.headers.get('x-request-id'), body, 'the answer names the id the request was given');
    return body;
  };
  t.is(await idFor('proxy-7f3a9c21'), 'proxy-7f3a9c21');
  t.is(await idFor('trace:0af7651916cd43dd8448eb211c80319c'), 'trace:0af7651916cd43dd8448eb211c80319c');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  for (const bad of [undefined, '', 'short', 'x'.repeat(129), 'has space in it', 'line\\nbreak', '{"json":1}', 'ünïcödé-id']) {
    t.regex(await idFor(bad), uuid, `replaced: ${JSON.stringify(bad)}`);
  }
});

test('every line logged while a request is handled carries its id, across awaits and timers; lines outside requests carry none', async (t) => {
  const { logger, lines } = capture();
  const { server, url } = await serve((req, res) => {
    logger.info('arrived');
    void (async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.warn({ request_id: 'explicit-wins' }, 'explicit');
      outsideRequests(() => logger.info('detached'))();
      setImmediate(() => {
        logger.info('later');
        res.end();
      });
    })();
  });
  t.teardown(() => server.close());
  logger.info('before');
  const [a, b] = await Promise.all([
    fetch(url, { headers: { 'x-request-id': 'request-aaaa' } }),
    fetch(url, { headers: { 'x-request-id': 'request-bbbb' } }),
  ]);
  t.is(a.status, 200);
  t.is(b.status, 200);
  for (const id of ['request-aaaa', 'request-bbbb']) {
    t.deepEqual(lines.filter((line) => line.request_id === id).map((line) => line.msg), ['arrived', 'later'], id);
  }
  t.is(lines.filter((line) => line.msg === 'explicit' && line.request_id === 'explicit-wins').length, 2, 'a field given at the call wins');
  for (const msg of ['before', 'detached']) {
    const found = lines.filter((line) => line.msg === msg);
    t.true(found.length > 0 && found.every((line) => !('request_id' in line)), `${msg}: no request id`);
  }
});

test('the access line: method, route template, status, duration, client, address, browser and request id; never the path or query', async (t) => {
  const { logger, lines } = capture();
  const log = observeRequestEnd([accessLog(logger, { trustProxy: false })])!;
  const { server, url } = await serve((req, res) => {
    log(req, res);
    if (req.url?.startsWith('/token')) {
      recordRoute(req, '/token');
      recordClientId(req, 'orders-service');
      res.end('{}');
    } else if (req.url?.startsWith('/boom')) {
      res.statusCode = 500;
      res.end();
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  t.teardown(() => server.close());
  await fetch(`${url}/token?code=c0de-s3cret`, { method: 'POST', headers: { 'x-request-id': 'access-0001', 'user-agent': 'orders/1.2' } });
  await fetch(`${url}/interaction/uid-4aa7f1/login`, { headers: { 'user-agent': 'x'.repeat(5000) } });
  await fetch(`${url}/boom`, { headers: { 'user-agent': 'quote" backslash\\ {"x":1}' } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const access = lines.filter((line) => line.msg === 'request');
  t.is(access.length, 3, 'one line per request');
  const [token, page, boom] = access;
  t.is(boom.user_agent, 'quote" backslash\\ {"x":1}', 'a header is escaped, not spliced into the line');
  t.like(token, { pid: process.pid, msg: 'request' }, "the logger's bindings, as on every pino line");
  t.true(typeof token.time === 'number');
  t.like(token, { level: 30, request_id: 'access-0001', method: 'POST', route: '/token', status: 200, client_id: 'orders-service', ip: '127.0.0.1', user_agent: 'orders/1.2' });
  t.true(typeof token.duration_ms === 'number' && token.duration_ms >= 0);
  t.like(page, { method: 'GET', route: 'unmatched', status: 404 });
  t.is((page.user_agent as string).length, 256, 'a long User-Agent is cut');
  t.false('client_id' in page, 'no client when none was identified');
  t.like(boom, { level: 40, status: 500 }, 'a failed request is a warning');
  const text = JSON.stringify(access);
  for (const secret of ['c0de-s3cret', 'uid-4aa7f1', '?']) t.false(text.includes(secret), `${secret} is not logged`);
});

test('behind TRUST_PROXY the logged address is the one the proxy added', async (t) => {
  const { logger, lines } = capture();
  const log = observeRequestEnd([accessLog(logger, { trustProxy: true })])!;
  const { server, url } = await serve((req, res) => { log(req, res); res.end(); });
  t.teardown(() => server.close());
  await fetch(url, { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(lines.find((line) => line.msg === 'request')?.ip, '203.0.113.9');
});

test('an access line without a request id or a User-Agent leaves those fields out and stays one JSON line', async (t) => {
  const { logger, lines } = capture();
  const log = observeRequestEnd([accessLog(logger, { trustProxy: false })])!;
  const server = createServer((req, res) => { log(req, res); res.end(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    // node:http sends no User-Agent of its own.
    get({ port, host: '127.0.0.1', path: '/' }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const line = lines.find((entry) => entry.msg === 'request');
  t.truthy(line);
  t.false('request_id' in line!);
  t.false('user_agent' in line!);
  t.like(line, { method: 'GET', route: '/', status: 200 });
});
