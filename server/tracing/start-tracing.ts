// OpenTelemetry tracing, loaded by server/main.ts only when an OTLP endpoint
// is set (without one, no @opentelemetry module is ever imported). Spans:
// one per HTTP request (named by its route template), and below it one per
// Postgres query and Redis command, sent in batches over OTLP/HTTP (JSON).
// The SDK reads its standard variables itself: OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*.
//
// Instrumentations patch pg, ioredis and http as they are imported, so this
// runs before the server's own modules are: main.ts imports them after
// startTracing() resolved. The hook is import-in-the-middle's in-thread one
// (module.registerHooks), limited to the modules instrumented.
//
// What spans carry is held to what logs may carry: no query string and no
// raw path (interaction uids, codes and tokens travel in them; the route
// template names the request), SQL with its $n placeholders and never its
// values, a Redis command's name and never its keys or arguments (tokens and
// sessions are stored as arguments of Lua scripts).
import type { IncomingMessage } from 'node:http';
import { register as registerImportHooks } from 'import-in-the-middle/register-hooks.mjs';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { requestIdOf } from '../http/request-id.ts';
import { routeOf } from '../http/route-template.ts';
import { VERSION } from '../version.ts';

/** The modules instrumented: import-in-the-middle wraps these and no other. */
const INSTRUMENTED = ['pg', 'pg-pool', 'ioredis', 'http', 'https', 'node:http', 'node:https'];

export interface Tracing {
  /** Sends the spans still queued; call before the process exits. */
  shutdown(): Promise<void>;
}

export function startTracing(): Tracing {
  registerImportHooks({ include: INSTRUMENTED });

  const resource = resourceFromAttributes({ 'service.name': 'latchkey', 'service.version': VERSION })
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Latchkey calls no HTTP service of its own; a server span per request is what counts.
        disableOutgoingRequestInstrumentation: true,
        // Nothing from the URL at the start (undefined drops an attribute): the route is set at the end.
        startIncomingSpanHook: () => ({ 'url.path': undefined, 'url.query': undefined }) as unknown as Record<string, string>,
        applyCustomAttributesOnSpan(span, request) {
          const req = request as IncomingMessage;
          const route = routeOf(req);
          span.setAttribute('http.route', route);
          span.updateName(`${req.method ?? 'GET'} ${route}`);
          const id = requestIdOf(req);
          if (id) span.setAttribute('latchkey.request_id', id); // the request_id of its log lines
        },
      }),
      // Only queries and commands made for a request: the admin-change poll
      // every second and other background work would each be a trace of its own.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });

  return { shutdown: () => provider.shutdown() };
}
