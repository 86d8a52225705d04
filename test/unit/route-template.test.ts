// The route template a request is labelled with (access log, spans,
// metrics): what a router matched, or a fixed name, never the raw path.
import test from 'ava';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { recordRoute, routeOf, routeRecorder, templateOfPath, UNMATCHED } from '../../server/http/route-template.ts';

test('paths served by plain middleware name themselves, without their query', (t) => {
  for (const path of ['/', '/healthz', '/healthz/live', '/healthz/ready']) {
    t.is(templateOfPath(path), path);
    t.is(templateOfPath(`${path}?probe=1`), path);
  }
  t.is(templateOfPath('/static/login.css'), '/static/*');
  t.is(templateOfPath('/static/vendor/simplewebauthn/index.umd.min.js?v=1'), '/static/*');
});

test('any other path is one label, so neither a uid nor a token in a path reaches a log line or a metric', (t) => {
  for (const path of ['/interaction/k3y-uid', '/token?code=s3cret', '/session/end?id_token_hint=eyJ.x.y', '/no/such/page', '', undefined]) {
    t.is(templateOfPath(path), UNMATCHED);
  }
});

test('a recorded route wins over the path; the last one recorded counts', (t) => {
  const req = { url: '/interaction/abc123/login?x=1' } as IncomingMessage;
  t.is(routeOf(req), UNMATCHED);
  recordRoute(req, '/interaction/:uid/login');
  t.is(routeOf(req), '/interaction/:uid/login');
  recordRoute(req, '/auth/:uid');
  t.is(routeOf(req), '/auth/:uid');
});

test('routeRecorder records the template @koa/router matched, after the route ran, and nothing when none matched', async (t) => {
  const seen: string[] = [];
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      seen.push(routeOf(ctx.req));
    }
  });
  app.use(routeRecorder());
  const router = new Router({ prefix: '/interaction' });
  router.post('/:uid/login', (ctx) => { ctx.body = 'ok'; });
  router.get('/:uid', (ctx) => { ctx.throw(400, 'expired'); });
  app.use(router.routes());
  const handle = app.callback();
  const server = createServer((req, res) => { void handle(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  t.is((await fetch(`${base}/interaction/Zx81-uid/login?token=abc`, { method: 'POST' })).status, 200);
  t.is((await fetch(`${base}/interaction/Zx81-uid`)).status, 400, 'a route that throws');
  t.is((await fetch(`${base}/interaction/Zx81-uid/login`)).status, 404, 'the path of a route, another method');
  t.is((await fetch(`${base}/static/app.css`)).status, 404);
  t.deepEqual(seen, ['/interaction/:uid/login', '/interaction/:uid', UNMATCHED, '/static/*']);
});
