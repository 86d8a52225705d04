// needs: postgres redis
// OpenTelemetry tracing: with OTEL_EXPORTER_OTLP_ENDPOINT the real server
// sends its spans (an HTTP server span named by route, and the Postgres and
// Redis calls made for the request, in the same trace) to an OTLP/HTTP
// receiver this test runs; without it no OpenTelemetry module is loaded at
// all, which a module recorder loaded ahead of the server (`node --import`)
// shows.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, ROOT, startServer } from '../helpers/server-process.ts';
import { eventually } from './support.ts';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
}

const SERVER = 2; // OTLP SpanKind
const OTEL_MODULE = '/node_modules/@opentelemetry/';

/** An OTLP/HTTP trace receiver (JSON, what @opentelemetry/exporter-trace-otlp-http sends). */
async function otlpReceiver(): Promise<{ url: string; spans: Span[]; server: Server; contentTypes: Set<string> }> {
  const spans: Span[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.add(String(req.headers['content-type']));
      const { resourceSpans } = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<Omit<Span, 'scope' | 'attributes'> & { attributes?: Array<{ key: string; value: Record<string, unknown> }> }> }> }> };
      for (const { scopeSpans } of resourceSpans) {
        for (const { scope, spans: received } of scopeSpans) {
          for (const span of received) {
            const attributes = Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
            spans.push({ ...span, scope: scope.name, attributes });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server, contentTypes };
}

function recordedModules(t: { teardown: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-modules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'loaded.txt');
  return {
    env: { RECORD_MODULES_TO: file },
    command: [NODE, '--import', join(ROOT, 'test', 'helpers', 'record-loaded-modules.ts'), join(ROOT, 'server', 'main.ts')] as [string, ...string[]],
    read: () => readFileSync(file, 'utf8').split('\n'),
  };
}

test('with OTEL_EXPORTER_OTLP_ENDPOINT, a request\'s HTTP server span and its Postgres and Redis spans reach the OTLP receiver in one trace', async (t) => {
  const receiver = await otlpReceiver();
  t.teardown(() => receiver.server.close());
  const modules = recordedModules(t);
  const server = await startServer({
    command: modules.command,
    env: { ...modules.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_SERVICE_NAME: 'latchkey-under-test' },
  });
  let stopped = false;
  t.teardown(async () => { if (!stopped) await server.stop(); });

  // /healthz asks Postgres (SELECT 1) and Redis (PING) for this request.
  const requestId = 'trace-test-0001';
  const response = await fetch(`${server.origin}/healthz?probe=s3cret-value`, { headers: { 'x-request-id': requestId } });
  t.is(response.status, 200);

  const http = await eventually('the HTTP server span of the request', async () =>
    receiver.spans.find((span) => span.kind === SERVER && span.attributes['latchkey.request_id'] === requestId), 15_000);
  t.is(http.scope, '@opentelemetry/instrumentation-http');
  t.is(http.name, 'GET /healthz');
  t.is(http.attributes['http.route'], '/healthz');
  t.is(http.attributes['http.response.status_code'], 200);
  const inTrace = (scope: string) => eventually(`a ${scope} span in the request's trace`, async () =>
    receiver.spans.find((span) => span.scope === scope && span.traceId === http.traceId), 15_000);
  const pg = await inTrace('@opentelemetry/instrumentation-pg');
  const redis = await inTrace('@opentelemetry/instrumentation-ioredis');
  t.is(pg.attributes['db.system.name'], 'postgresql');
  t.is(redis.attributes['db.system.name'], 'redis');
  t.is(redis.attributes['db.query.text'], 'ping', 'a Redis command\'s name only, never its arguments');
  // Below the request's server span (directly, or under the pool's connect span).
  const ids = new Set(receiver.spans.filter((span) => span.traceId === http.traceId).map((span) => span.spanId));
  for (const span of [pg, redis]) t.true(ids.has(span.parentSpanId ?? ''), `${span.name} has its parent in the trace`);
  t.true([...receiver.contentTypes].every((type) => type.startsWith('application/json')), 'OTLP/HTTP JSON');

  const exported = JSON.stringify(receiver.spans);
  t.false(exported.includes('s3cret-value'), 'no query string in any span');
  t.false(exported.includes('probe='), 'no query string in any span');

  // The background poll of admin changes (every second) is no trace of its own.
  // (The server has run for seconds by now: a poll would have been traced.)
  const dbSpans = receiver.spans.filter((span) => span.scope !== '@opentelemetry/instrumentation-http');
  t.true(dbSpans.every((span) => span.parentSpanId), 'every Postgres and Redis span has a parent: no root spans from background work');

  stopped = true;
  await server.stop();
  t.true(modules.read().some((url) => url.includes(OTEL_MODULE)), 'the recorder sees OpenTelemetry loaded');
});

test('without an OTLP endpoint no OpenTelemetry module is loaded', async (t) => {
  const modules = recordedModules(t);
  const server = await startServer({ command: modules.command, env: modules.env });
  try {
    t.is((await fetch(`${server.origin}/healthz`)).status, 200);
  } finally {
    await server.stop();
  }
  const loaded = modules.read();
  for (const dependency of ['/node_modules/pg/', '/node_modules/ioredis/', '/node_modules/oidc-provider/']) {
    t.true(loaded.some((url) => url.includes(dependency)), `the recorder sees ${dependency} (it works)`);
  }
  // prom-client (the metrics) always requires @opentelemetry/api, the no-op API it reads exemplars through;
  // nothing that traces (the SDK, the exporter, the instrumentations, the module hooks) may load.
  t.deepEqual(loaded.filter((url) => (url.includes(OTEL_MODULE) && !url.includes(`${OTEL_MODULE}api/`)) || url.includes('/import-in-the-middle/')), []);
});
