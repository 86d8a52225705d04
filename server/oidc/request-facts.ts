// Once oidc-provider answered, notes on the Node request what the access log
// (and metrics) report about it: the route that matched (oidc-provider's
// router sets ctx._matchedRoute, as @koa/router does) and the client, when
// the request identified one. Mounted with provider.use(), so it also runs on
// the token fast path, where no other Koa context exists.
import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { recordClientId } from '../http/access-log.ts';
import { recordRoute } from '../http/route-template.ts';
import { providerRouteTemplate } from './internals.ts';

export function requestFacts(): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = providerRouteTemplate(ctx);
      if (route) recordRoute(ctx.req, route);
      const clientId = (ctx as unknown as KoaContextWithOIDC).oidc?.client?.clientId;
      if (clientId) recordClientId(ctx.req, clientId);
    }
  };
}
