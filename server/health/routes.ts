// /healthz/live: the process answers (no store is asked). /healthz/ready and
// its older name /healthz: 200 when ready, else 503 naming each failed check.
// Both answer whatever the Host (server/http/issuer-origin.ts) and are never cached.
import type Koa from 'koa';
import type { Logger } from 'pino';
import { VERSION } from '../version.ts';
import type { Readiness } from './readiness.ts';

/** The paths this middleware answers (the access log, metrics and spans name them as they are). */
export const HEALTH_PATHS: readonly string[] = ['/healthz', '/healthz/live', '/healthz/ready'];

export function healthRoutes(readiness: Readiness, logger: Logger): Koa.Middleware {
  // A failing probe every second would log a line a second: log changes only.
  let lastFailed = '';
  return async (ctx, next) => {
    if (!HEALTH_PATHS.includes(ctx.path)) return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.path === '/healthz/live') {
      ctx.body = { status: 'ok', version: VERSION };
      return;
    }
    const report = await readiness();
    const failed = report.ready ? '' : JSON.stringify(report.failed);
    if (failed !== lastFailed) {
      if (report.ready) logger.info('ready again');
      else logger.warn({ failed: report.failed, details: report.details }, 'not ready');
      lastFailed = failed;
    }
    if (report.ready) {
      ctx.body = { status: 'ok', version: VERSION };
    } else {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', version: VERSION, failed: report.failed };
    }
  };
}
