// Turns errors thrown by Latchkey's own routes into an HTML page (or JSON for
// API-style callers) without leaking internals: 5xx get a generic message.
import type Koa from 'koa';
import { errorPage } from '../../views/error.ts';
import type { PageContext } from '../../views/layout.ts';
import { hasString, t } from '../../views/strings.ts';

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
  headers?: unknown;
}

const ERROR_CODES: Record<number, string> = {
  401: 'unauthorized',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

function statusOf(err: HttpLikeError): number {
  const status = Number(err.status ?? err.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function describe(err: HttpLikeError, status: number): { title: string; message: string } {
  if (status >= 500) return { title: t('error.title'), message: t('error.generic') };
  const titleKey = `error.title.${status}`;
  const fallbackKey = `error.${status}`;
  const title = hasString(titleKey) ? t(titleKey) : t('error.title');
  const message = err.expose === true && typeof err.message === 'string' && err.message
    ? err.message
    : hasString(fallbackKey) ? t(fallbackKey) : t('error.400');
  return { title, message };
}

export function errorPages(pageContext: (ctx: Koa.Context) => PageContext): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const err = (caught ?? {}) as HttpLikeError;
      const status = statusOf(err);
      if (status >= 500) ctx.app.emit('error', caught, ctx);
      // Too late to render anything (already streaming or handed off).
      if (ctx.headerSent || !ctx.writable || ctx.respond === false) return;

      const { title, message } = describe(err, status);
      ctx.status = status;
      if (status < 500 && err.headers && typeof err.headers === 'object') {
        for (const [name, value] of Object.entries(err.headers)) ctx.set(name, String(value));
      }
      ctx.set('Cache-Control', 'no-store');
      // A browser always sends Accept; an API client that sends none gets JSON.
      if (!ctx.get('Accept') || ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: ERROR_CODES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request'), error_description: message };
      } else {
        ctx.type = 'html';
        ctx.body = errorPage(pageContext(ctx), { title, message, status });
      }
    }
  };
}
