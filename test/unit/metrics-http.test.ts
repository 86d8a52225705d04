// HTTP metrics: a request is counted once, under the route template its
// router matched (never the raw path), a fixed Latchkey path, or "unmatched";
// methods and label values outside the fixed sets are folded.
import test from 'ava';
import Router from '@koa/router';
import Koa from 'koa';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordRoute, routeRecorder, UNMATCHED } from '../../server/http/route-template.ts';
import { observeRequestEnd } from '../../server/http/request-end.ts';
import { httpMetrics, methodLabel } from '../../server/metrics/http-metrics.ts';
import { errorLabel, grantTypeLabel } from '../../server/metrics/provider-metrics.ts';
import { LatchkeyMetrics } from '../../server/metrics/registry.ts';

let server: Server;
let origin: string;
const metrics = new LatchkeyMetrics({ defaults: false });

test.before(async () => {
  // Like server/app.ts: the marker first, a prefixed strict router, fixed paths,
  // and a stand-in for the hand-off to oidc-provider, which marks its own route.
  const app = new Koa();
  app.use(routeRecorder());
  app.use(async (ctx, next) => {
    if (ctx.path !== '/healthz') return next();
    ctx.body = { status: 'ok' };
  });
  const router = new Router({ prefix: '/interaction', sensitive: true, strict: true });
  router.get('/:uid', (ctx) => { ctx.body = 'page'; });
  router.post('/:uid/login', (ctx) => { ctx.status = 303; ctx.redirect('/auth/x'); });
  app.use(router.routes() as unknown as Koa.Middleware);
  app.use(async (ctx) => {
    ctx.respond = false;
    if (ctx.path === '/token') recordRoute(ctx.req, '/token');
    ctx.res.statusCode = ctx.path === '/token' ? 200 : 404;
    ctx.res.end();
  });
  const listener = app.callback();
  const measure = observeRequestEnd([httpMetrics(metrics)])!;
  server = createServer((req, res) => { measure(req, res); void listener(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => { server?.close(); });

async function counted(): Promise<Record<string, number>> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'latchkey_http_requests_total')!;
  const values = (metric as unknown as { values: { labels: Record<string, string>; value: number }[] }).values;
  return Object.fromEntries(values.map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]));
}

test.serial('requests are counted under their route template, fixed path or "unmatched"', async (t) => {
  metrics.httpRequests.reset();
  await fetch(`${origin}/interaction/abc123def456`);
  await fetch(`${origin}/interaction/zzz999`);
  await fetch(`${origin}/interaction/abc123def456/login`, { method: 'POST', redirect: 'manual' });
  await fetch(`${origin}/healthz`);
  await fetch(`${origin}/token`, { method: 'POST' });
  await fetch(`${origin}/no/such/path/${'x'.repeat(20)}`);
  await fetch(`${origin}/INTERACTION/abc`); // strict and case-sensitive: no route
  await fetch(`${origin}/healthz`, { method: 'PROPFIND' });
  // The answer ends after fetch resolves on the client; 'close' follows at once.
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(await counted(), {
    'GET /interaction/:uid 200': 2,
    'POST /interaction/:uid/login 303': 1,
    'GET /healthz 200': 1,
    'POST /token 200': 1,
    [`GET ${UNMATCHED} 404`]: 2,
    'other /healthz 200': 1,
  });
  const text = await metrics.exposition();
  t.false(text.includes('abc123'), 'no raw path segment in any label');
  t.false(text.includes('xxxx'));
});

test.serial('the latency histogram observes each request once', async (t) => {
  metrics.httpDuration.reset();
  await fetch(`${origin}/healthz`);
  await fetch(`${origin}/healthz`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.regex(await metrics.exposition(), /^latchkey_http_request_duration_seconds_count\{route="\/healthz",method="GET"\} 2$/m);
});

test('label helpers fold anything outside their fixed sets', (t) => {
  t.is(methodLabel('GET'), 'GET');
  t.is(methodLabel('BREW'), 'other');
  t.is(methodLabel(undefined), 'other');
  t.is(grantTypeLabel('client_credentials'), 'client_credentials');
  t.is(grantTypeLabel('urn:example:anything'), 'other');
  t.is(grantTypeLabel(['client_credentials']), 'other');
  t.is(errorLabel('invalid_client'), 'invalid_client');
  t.is(errorLabel('made_up_error'), 'other');
  t.is(errorLabel(undefined), 'other');
});
