// HTTP request metrics: every request is counted once, when its answer ends,
// under its route template (/interaction/:uid/password, never the uid), method
// and status. Whoever routed the request records the template on it
// (markRoute): Latchkey's Koa app from @koa/router's matched route or its fixed
// paths, oidc-provider's middleware from the provider's router, the POST /token
// fast path directly. A request nobody routed is "unmatched", so a scan of
// random paths adds no series.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { CounterCell, HistogramCell } from './cells.ts';
import type { LatchkeyMetrics } from './registry.ts';

// A symbol property on the request, like the request id (server/http/request-id.ts).
const ROUTE = Symbol('latchkey.route');
type WithRoute = IncomingMessage & { [ROUTE]?: string };

export const UNMATCHED = 'unmatched';

/** Records the route template of a request; the first one recorded wins (the innermost router). */
export function markRoute(req: IncomingMessage, template: string): void {
  (req as WithRoute)[ROUTE] ??= template;
}

export const routeOf = (req: IncomingMessage): string => (req as WithRoute)[ROUTE] ?? UNMATCHED;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
/** An HTTP method as a label: the standard ones, anything else "other". */
export const methodLabel = (method: string | undefined): string => (method && METHODS.has(method) ? method : 'other');

// Latchkey's own paths that no router serves; exact, or a prefix ending in /.
const FIXED_PATHS = new Set(['/', '/healthz', '/healthz/live', '/healthz/ready']);
const FIXED_PREFIXES = ['/static/vendor/simplewebauthn/', '/static/'];

/**
 * The template of a request Latchkey's Koa app answered: the @koa/router
 * route that matched, else one of the fixed paths above, else undefined.
 */
export function koaRouteTemplate(ctx: Koa.Context): string | undefined {
  const matched = (ctx as Koa.Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  if (FIXED_PATHS.has(ctx.path)) return ctx.path;
  const prefix = FIXED_PREFIXES.find((p) => ctx.path.startsWith(p));
  return prefix ? `${prefix}*` : undefined;
}

/** Koa middleware (first in the app): records the template of what the app answered itself. */
export function koaRouteMarker(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      // Handed to oidc-provider: its own middleware marked the route (or nothing matched).
      if (ctx.respond !== false) {
        const template = koaRouteTemplate(ctx);
        if (template) markRoute(ctx.req, template);
      }
    }
  };
}

interface Children {
  requests: CounterCell;
  duration: HistogramCell;
}

/**
 * Returns the function the request listener calls first with every request.
 * Cheap on the token path: one listener and a cached pair of cells per
 * (route, method, status), looked up by one string key.
 */
export function httpMetrics(metrics: LatchkeyMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  const children = new Map<string, Children>();
  const childrenFor = (route: string, method: string, status: string): Children => {
    const key = `${route} ${method} ${status}`;
    let found = children.get(key);
    if (!found) {
      found = { requests: metrics.httpRequests.cell(route, method, status), duration: metrics.httpDuration.cell(route, method) };
      children.set(key, found);
    }
    return found;
  };
  return (req, res) => {
    const started = performance.now();
    // 'close' comes for every response, answered or abandoned by the client.
    res.once('close', () => {
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const { requests, duration } = childrenFor(routeOf(req), methodLabel(req.method), status);
      requests.inc();
      duration.observe((performance.now() - started) / 1000);
    });
  };
}
