// The route a request was answered by, as its template (`/interaction/:uid/login`,
// `/auth`): what the access log, trace spans and metrics label requests with.
// Never the raw path or query: interaction uids, and the codes, tokens and
// id_token_hints some oidc-provider URLs carry, must not reach a log line,
// and a label must come from a small, fixed set.
//
// The routers say which route matched: @koa/router (Latchkey's pages) sets
// `ctx._matchedRoute`, which routeRecorder() copies onto the Node request
// once the route has run; oidc-provider's route is recorded by its own
// middleware (server/oidc/request-facts.ts, through internals.ts). Paths no
// router serves get a fixed name here.
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { HEALTH_PATHS } from '../health/routes.ts';

const ROUTE = Symbol('latchkey.route');
type WithRoute = IncomingMessage & { [ROUTE]?: string };

/** Paths served by plain middleware, not a router: their path is their template. */
const FIXED_PATHS = new Set(['/', ...HEALTH_PATHS]);
const STATIC_PREFIX = '/static/';

/** Every request no route matched (a 404, a refused Host): one label, whatever the path. */
export const UNMATCHED = 'unmatched';

/** Notes the template of the route that answered `req` (a later call replaces it). */
export function recordRoute(req: IncomingMessage, template: string): void {
  (req as WithRoute)[ROUTE] = template;
}

/** The template of a path no router recorded a route for. */
export function templateOfPath(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0];
  if (FIXED_PATHS.has(path)) return path;
  if (path.startsWith(STATIC_PREFIX)) return '/static/*';
  return UNMATCHED;
}

/** The route template that answered `req`: recorded by a router, else by its path (see templateOfPath). */
export function routeOf(req: IncomingMessage): string {
  return (req as WithRoute)[ROUTE] ?? templateOfPath(req.url);
}

/**
 * Koa middleware of Latchkey's app, mounted before the routers: once they
 * ran, copies the @koa/router route that matched onto the Node request.
 */
export function routeRecorder(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      if (typeof matched === 'string') recordRoute(ctx.req, matched);
    }
  };
}
