// Koa composition: security headers -> static assets -> health -> home page ->
// sign-in pages -> oidc-provider (last; its routes end the response).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from './config/index.ts';
import { healthRoutes } from './health/routes.ts';
import type { Readiness } from './health/readiness.ts';
import { errorPages } from './http/error-pages.ts';
import { home } from './http/home-page.ts';
import { pageContext } from './http/page-context.ts';
import { answerRefused, issuerPin } from './http/issuer-origin.ts';
import { accessLog } from './http/access-log.ts';
import { observeRequestEnd } from './http/request-end.ts';
import { assignRequestId, logRequestFailure, runWithRequestId } from './http/request-id.ts';
import { routeRecorder } from './http/route-template.ts';
import { securityHeaders, setApiSecurityHeaders } from './http/security-headers.ts';
import { staticFiles } from './http/static-files.ts';
import { accountRoutes } from './account/routes.ts';
import type { AccountPageDependencies } from './account/context.ts';
import { interactionRoutes } from './interactions/routes.ts';
import type { InteractionDependencies } from './interactions/context.ts';
import { httpMetrics } from './metrics/http-metrics.ts';
import type { LatchkeyMetrics } from './metrics/registry.ts';
import type { ProviderHost } from './oidc/provider-host.ts';

const SIMPLEWEBAUTHN_BROWSER = fileURLToPath(new URL('../node_modules/@simplewebauthn/browser/dist/bundle/', import.meta.url));

export interface AppDependencies extends Omit<InteractionDependencies, 'accounts'>, Omit<AccountPageDependencies, 'accounts'> {
  accounts: InteractionDependencies['accounts'] & AccountPageDependencies['accounts'];
  config: Config;
  logger: Logger;
  host: ProviderHost;
  /** Keys signing Latchkey's own cookies (the known-browser cookie); the provider's cookie keys. */
  cookieKeys: string[];
  /** /healthz/ready: the stores answer, keys loaded, migrations applied, not shutting down. */
  readiness: Readiness;
  /** Request metrics (absent with METRICS_PORT=off). */
  metrics?: LatchkeyMetrics;
}

export function createApp(deps: AppDependencies): Koa {
  // Behind the one TLS-terminating proxy TRUST_PROXY describes, the client's
  // address is the last X-Forwarded-For entry (the one the proxy added);
  // earlier entries come from the client and would let it pick its IP.
  const app = new Koa({ proxy: deps.config.trustProxy, maxIpsCount: 1 });
  app.keys = deps.cookieKeys;
  app.on('error', logRequestFailure(deps.logger));
  app.use(routeRecorder());
  app.use(securityHeaders({ https: deps.config.https }));
  app.use(staticFiles());
  // @simplewebauthn/browser from node_modules: the pages load it from here, never from a CDN.
  app.use(staticFiles('/static/vendor/simplewebauthn', SIMPLEWEBAUTHN_BROWSER));
  app.use(healthRoutes(deps.readiness, deps.logger));
  app.use(errorPages((ctx) => pageContext(deps.config, ctx)));
  app.use(home((ctx) => pageContext(deps.config, ctx)));
  app.use(interactionRoutes(deps));
  app.use(accountRoutes(deps));
  // Everything else is oidc-provider's. Headers set above are already on the
  // Node response; the provider's pages read the CSP nonce from the request
  // (securityHeaders records it there).
  app.use(async (ctx) => {
    ctx.respond = false;
    await deps.host.callback(ctx.req, ctx.res);
  });
  return app;
}

/**
 * The server's request listener. Every request gets an id (the id of every
 * line logged while it is handled), its access log line, and is pinned to
 * the issuer's origin first (a foreign Host is refused). POST /token, the
 * machine-token hot path, then goes straight to oidc-provider with the API
 * headers: it renders no page and needs none of the Koa app's middleware
 * (that costs ~20 µs a token). Everything else goes through the app.
 */
export function createRequestListener(deps: AppDependencies): (req: IncomingMessage, res: ServerResponse) => void {
  const app = createApp(deps).callback();
  const pin = issuerPin(deps.config);
  const observeEnd = observeRequestEnd([
    deps.metrics ? httpMetrics(deps.metrics) : undefined,
    deps.config.accessLog ? accessLog(deps.logger, { trustProxy: deps.config.trustProxy }) : undefined,
  ]);
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    observeEnd?.(req, res);
    const refused = pin(req);
    if (refused) {
      setApiSecurityHeaders(res, { https: deps.config.https });
      answerRefused(res, refused);
      return;
    }
    if (req.method === 'POST' && req.url === '/token') {
      setApiSecurityHeaders(res, { https: deps.config.https });
      void deps.host.callback(req, res);
      return;
    }
    void app(req, res);
  };
  return (req, res) => runWithRequestId(assignRequestId(req, res), handle, req, res);
}
