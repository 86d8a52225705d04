// Every request gets an id: sent back as X-Request-Id and put on every log
// line about the request, so a user's report ("it failed, id …") finds the
// server's record. Behind TRUST_PROXY, a well-formed id the proxy sent is
// kept, so the proxy's log and Latchkey's agree.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

// A symbol property on the request, not a WeakMap: the token path sets one
// per request, and short-lived WeakMap keys cost the garbage collector ~10x more.
const REQUEST_ID = Symbol('latchkey.requestId');
type WithId = IncomingMessage & { [REQUEST_ID]?: string };
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

export function assignRequestId(req: IncomingMessage, res: ServerResponse, trustProxy: boolean): string {
  const offered = trustProxy ? req.headers['x-request-id'] : undefined;
  const id = typeof offered === 'string' && WELL_FORMED.test(offered) ? offered : randomUUID();
  (req as WithId)[REQUEST_ID] = id;
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The id assignRequestId gave this request (oidc-provider's context shares the Node request). */
export const requestIdOf = (req: IncomingMessage | undefined): string | undefined => (req as WithId | undefined)?.[REQUEST_ID];

/** The Koa 'error' listener (Latchkey's app and oidc-provider's): one pino line with the request id, never stderr. */
export const logRequestFailure = (logger: Logger) => (error: unknown, ctx?: { path?: string; req?: IncomingMessage }): void =>
  logger.error({ err: error, path: ctx?.path, request_id: requestIdOf(ctx?.req) }, 'request failed');
