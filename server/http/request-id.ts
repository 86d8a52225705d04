// Every request gets an id: sent back as X-Request-Id and put on every log
// line written while the request is handled, so a user's report ("it failed,
// id …") finds the server's record.
//
// A well-formed X-Request-Id the request arrives with is kept, so a proxy's
// or a client's own log and Latchkey's agree. It is a correlation id and
// nothing more: no decision reads it, and the strict pattern keeps it from
// carrying anything into a log line but letters, digits and `._:-`. A
// sender can pick the same id twice; a proxy that must own ids overwrites
// the header.
//
// The id reaches log lines through AsyncLocalStorage, read by the logger's
// mixin (server/logging/logger.ts): no call site passes it, none can forget
// it, and oidc-provider's event handlers and the stores' error handlers get
// it too.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { routeOf } from './route-template.ts';

// A symbol property on the request, not a WeakMap: the token path sets one
// per request, and short-lived WeakMap keys cost the garbage collector ~10x more.
const REQUEST_ID = Symbol('latchkey.requestId');
type WithId = IncomingMessage & { [REQUEST_ID]?: string };
const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

const current = new AsyncLocalStorage<string>();

export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const offered = req.headers['x-request-id'];
  const id = typeof offered === 'string' && WELL_FORMED.test(offered) ? offered : randomUUID();
  (req as WithId)[REQUEST_ID] = id;
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The id assignRequestId gave this request (oidc-provider's context shares the Node request). */
export const requestIdOf = (req: IncomingMessage | undefined): string | undefined => (req as WithId | undefined)?.[REQUEST_ID];

/** Runs the request's handler with its id as the current one (the id of every line logged meanwhile). */
export function runWithRequestId<A extends unknown[]>(id: string, handler: (...args: A) => void, ...args: A): void {
  current.run(id, handler, ...args);
}

/** The id of the request being handled, or undefined outside any request. */
export const currentRequestId = (): string | undefined => current.getStore();

/**
 * `listener` run outside any request whenever it is called: for a store's
 * error handler, whose events fire in the context of whichever request
 * happened to open the connection, an id that would point at the wrong request.
 */
export const outsideRequests = <A extends unknown[]>(listener: (...args: A) => void): ((...args: A) => void) =>
  (...args) => current.exit(listener, ...args);

/**
 * The Koa 'error' listener (Latchkey's app and oidc-provider's): one pino line
 * (with the request id), never stderr. The route template, not the path: a
 * path may hold an interaction uid.
 */
export const logRequestFailure = (logger: Logger) => (error: unknown, ctx?: { req?: IncomingMessage }): void =>
  logger.error({ err: error, route: ctx?.req ? routeOf(ctx.req) : undefined, request_id: requestIdOf(ctx?.req) }, 'request failed');
