// The error mapper (server/http/error-pages.ts) in an in-process Koa app: a
// LatchkeyError becomes its status and text as a page or JSON, Koa's and
// oidc-provider's HTTP errors keep theirs, anything else is a logged 500
// that names the request id and nothing else.
import test from 'ava';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import Koa from 'koa';
import { errors as oidcErrors } from 'oidc-provider';
import { isStoreUnavailable } from '../../server/adapters/errors.ts';
import { failFastOptions } from '../../server/adapters/redis-connection.ts';
import { InteractionExpiredError, LatchkeyError, NotFoundError, StoreUnavailableError, UserError } from '../../server/errors.ts';
import { errorAnswer, errorPages } from '../../server/http/error-pages.ts';
import { assignRequestId } from '../../server/http/request-id.ts';
import { StepNotAllowedError } from '../../server/interactions/state-machine.ts';
import { MfaError } from '../../server/mfa/types.ts';
import { ThrottledError } from '../../server/throttle/types.ts';
import type { PageContext } from '../../views/layout.ts';
import { t as text } from '../../views/strings.ts';

const page: PageContext = { productName: 'Acme ID', brandColor: '#123abc', nonce: 'bm9uY2U=' };

const THROWN: Record<string, () => unknown> = {
  '/step': () => new StepNotAllowedError('the enrol step is not the current step'),
  '/expired': () => new InteractionExpiredError('interaction mismatch'),
  '/throttled': () => new ThrottledError(42),
  '/mfa': () => new MfaError('mfa.webauthn.unknown', { status: 401, detail: 'credential 7f3a of another account' }),
  '/user': () => new UserError('"x" is not an email address'),
  '/missing': () => new NotFoundError('unknown account 1234'),
  '/koa': () => Object.assign(new Error('Form expired'), { status: 403, expose: true }),
  '/oidc': () => new oidcErrors.InvalidRequest('bad parameter'),
  '/bug': () => new Error('database password is hunter2'),
  '/string': () => 'thrown string',
};

async function serve(t: import('ava').ExecutionContext) {
  const app = new Koa();
  const logged: unknown[] = [];
  app.on('error', (error) => logged.push(error));
  app.use(errorPages(() => page));
  app.use((ctx) => {
    throw THROWN[ctx.path]();
  });
  const callback = app.callback();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    assignRequestId(req, res);
    void callback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const get = (path: string, accept: string) => fetch(url + path, { headers: { Accept: accept } });
  return { get, logged };
}

test('a LatchkeyError answers with its status and its key\'s text, never its detail', async (t) => {
  const { get, logged } = await serve(t);
  const cases: Array<[string, number, string, string]> = [
    ['/step', 403, 'access_denied', text('error.step_not_allowed')],
    ['/expired', 400, 'invalid_request', text('error.interaction_expired')],
    ['/mfa', 401, 'unauthorized', text('mfa.webauthn.unknown')],
    ['/throttled', 429, 'too_many_requests', text('error.429')],
  ];
  for (const [path, status, code, message] of cases) {
    const html = await get(path, 'text/html');
    t.is(html.status, status, path);
    t.regex(html.headers.get('content-type') ?? '', /text\/html/, path);
    t.is(html.headers.get('cache-control'), 'no-store', path);
    const body = await html.text();
    t.true(body.includes(`role="alert">${message}</p>`), `${path}: ${body}`);
    t.false(body.includes('credential 7f3a') || body.includes('interaction mismatch') || body.includes('not the current step'), `${path}: no detail`);
    t.false(body.includes('Reference:'), `${path}: a 4xx names no request id`);

    const json = await get(path, 'application/json');
    t.is(json.status, status, path);
    t.deepEqual(await json.json(), { error: code, error_description: message }, path);
  }
  t.is(logged.length, 0, 'a refusal is not a server error');
});

test('a throttled answer carries Retry-After', async (t) => {
  const { get } = await serve(t);
  const response = await get('/throttled', 'text/html');
  t.is(response.headers.get('retry-after'), '42');
});

test('an exposed message (CLI-style UserError, ctx.throw) is what the user reads', async (t) => {
  const { get } = await serve(t);
  t.deepEqual(await (await get('/user', 'application/json')).json(), { error: 'invalid_request', error_description: '"x" is not an email address' });
  const missing = await get('/missing', 'application/json');
  t.is(missing.status, 404);
  t.deepEqual(await missing.json(), { error: 'not_found', error_description: 'unknown account 1234' });
  const koa = await get('/koa', 'text/html');
  t.is(koa.status, 403);
  t.regex(await koa.text(), /role="alert">Form expired</);
});

test('oidc-provider\'s errors keep their status', async (t) => {
  const { get } = await serve(t);
  const response = await get('/oidc', 'application/json');
  t.is(response.status, 400);
});

test('anything else is a 500 with a generic text and the request id, logged once', async (t) => {
  const { get, logged } = await serve(t);
  for (const path of ['/bug', '/string']) {
    const before = logged.length;
    const html = await get(path, 'text/html');
    t.is(html.status, 500, path);
    const id = html.headers.get('x-request-id') ?? '';
    t.truthy(id);
    const body = await html.text();
    t.false(body.includes('hunter2'), path);
    t.true(body.includes(text('error.generic')), path);
    t.true(body.includes(`Reference: ${id}`), `${path}: the page names the request id`);
    t.is(logged.length, before + 1, `${path}: logged once`);

    const json = await get(path, 'application/json');
    t.is(json.status, 500);
    t.deepEqual(await json.json(), { error: 'server_error', error_description: text('error.generic'), request_id: json.headers.get('x-request-id') });
  }
});

test('errorAnswer: a server-error LatchkeyError shows its key\'s text, never its detail, and of its headers only Retry-After', (t) => {
  const answer = errorAnswer(new LatchkeyError('error.generic', 'redis cluster down', { status: 503, headers: { 'X-Debug': 'node-3', 'Retry-After': '5' } }), 'req-12345678');
  t.deepEqual(answer, {
    status: 503, code: 'temporarily_unavailable', title: text('error.title.503'), message: text('error.generic'), headers: { 'Retry-After': '5' }, requestId: 'req-12345678',
  });
  const unavailable = errorAnswer(new Error('Command timed out'), 'req-12345678');
  t.deepEqual(unavailable, {
    status: 503, code: 'temporarily_unavailable', title: text('error.title.503'), message: text('error.503'), headers: {}, requestId: 'req-12345678',
  }, 'a store error\'s 503 says "try again", never its detail');
});

test('errorAnswer: ioredis\' errors for a Redis that is down or hung are a 503 temporarily_unavailable', async (t) => {
  // A real client on a port nothing listens on, with the server's options: its own errors.
  const redis = new Redis({ host: '127.0.0.1', port: 1, ...failFastOptions() });
  redis.on('error', () => {});
  t.teardown(() => redis.disconnect());
  const refused = await redis.get('x').catch((error: unknown) => error);
  t.true(isStoreUnavailable(refused), String(refused));
  const answer = errorAnswer(refused, 'req-1');
  t.is(answer.status, 503);
  t.is(answer.code, 'temporarily_unavailable');
  t.is(answer.message, text('error.503'));
  t.false(isStoreUnavailable(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), 'a command Redis refused is not an outage');
  t.is(errorAnswer(new Error('Command timed out')).status, 503);
});

test('errorAnswer: a store that is down or hung is a 503 that says to try again (StoreUnavailableError)', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
  const answer = errorAnswer(new StoreUnavailableError('database', refused), 'req-1');
  t.is(answer.status, 503);
  t.is(answer.code, 'temporarily_unavailable');
  t.is(answer.message, text('error.503'));
  t.deepEqual(answer.headers, { 'Retry-After': '5' });
  t.false(JSON.stringify(answer).includes('10.0.0.5'), 'no address leaks');
});
