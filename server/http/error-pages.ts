// The one place an error thrown by Latchkey's routes (and whatever escapes
// oidc-provider's own handling) becomes an answer, modelled on oidc-provider's
// lib/helpers/errors.js: a LatchkeyError says its status, what the user reads
// and whether its message may be shown; Koa's http-errors (ctx.throw) and
// oidc-provider's errors say status and expose; anything else is a 500 with a
// generic message and the request id, logged through the app's 'error' event
// (a store that is down or hung is a 503 temporarily_unavailable instead)
// (one pino line with that id, server/http/request-id.ts). A browser gets the
// error page, an API-style caller (Accept: JSON, or no Accept) JSON.
import type Koa from 'koa';
import { errorPage } from '../../views/error.ts';
import type { PageContext } from '../../views/layout.ts';
import { hasString, t } from '../../views/strings.ts';
import { isStoreUnavailable } from '../adapters/errors.ts';
import { LatchkeyError } from '../errors.ts';
import { requestIdOf } from './request-id.ts';

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
  headers?: unknown;
}

/** An answer to an error: what every caller gets, whatever the format. */
export interface ErrorAnswer {
  status: number;
  /** OAuth-style code for JSON callers. */
  code: string;
  title: string;
  message: string;
  headers: Record<string, string>;
  /** Server errors only: the id the logs hold the error under. */
  requestId?: string;
}

const ERROR_CODES: Record<number, string> = {
  401: 'unauthorized',
  403: 'access_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'temporarily_unavailable',
};

function statusOf(err: HttpLikeError): number {
  if (isStoreUnavailable(err)) return 503;
  const status = Number(err.status ?? err.statusCode);
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function messageOf(err: HttpLikeError, status: number): string {
  // A LatchkeyError's key was written for the user, whatever its status (a 503's "try again").
  if (err instanceof LatchkeyError) return err.userMessage();
  if (status === 503) return t('error.503');
  if (status >= 500) return t('error.generic');
  if (err.expose === true && typeof err.message === 'string' && err.message) return err.message;
  const fallbackKey = `error.${status}`;
  return hasString(fallbackKey) ? t(fallbackKey) : t('error.400');
}

function headersOf(err: HttpLikeError, status: number): Record<string, string> {
  if (!err.headers || typeof err.headers !== 'object') return {};
  const headers = Object.entries(err.headers).map(([name, value]) => [name, String(value)] as const);
  // A server error's headers are internals too, except when to try again.
  return Object.fromEntries(status >= 500 ? headers.filter(([name]) => name.toLowerCase() === 'retry-after') : headers);
}

/** What to answer for `caught` (exported for the unit tests). */
export function errorAnswer(caught: unknown, requestId?: string): ErrorAnswer {
  const err = (caught ?? {}) as HttpLikeError;
  const status = statusOf(err);
  const titleKey = `error.title.${status}`;
  return {
    status,
    code: ERROR_CODES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request'),
    title: hasString(titleKey) ? t(titleKey) : t('error.title'),
    message: messageOf(err, status),
    headers: headersOf(err, status),
    requestId: status >= 500 ? requestId : undefined,
  };
}

export function errorPages(pageContext: (ctx: Koa.Context) => PageContext): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const answer = errorAnswer(caught, requestIdOf(ctx.req));
      // Logged once, by the app's 'error' listener, with the request id.
      if (answer.status >= 500) ctx.app.emit('error', caught, ctx);
      // Too late to render anything (already streaming or handed off).
      if (ctx.headerSent || !ctx.writable || ctx.respond === false) return;

      ctx.status = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
      ctx.set('Cache-Control', 'no-store');
      // A browser always sends Accept; an API client that sends none gets JSON.
      if (!ctx.get('Accept') || ctx.accepts('html', 'json') === 'json') {
        ctx.body = { error: answer.code, error_description: answer.message, ...(answer.requestId && { request_id: answer.requestId }) };
      } else {
        ctx.type = 'html';
        ctx.body = errorPage(pageContext(ctx), { title: answer.title, message: answer.message, status: answer.status, requestId: answer.requestId });
      }
    }
  };
}
