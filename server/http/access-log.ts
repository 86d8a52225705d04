// The access log: one line per request once its answer is sent (or the
// client went away), through the server's pino logger, with the request id,
// the method, the route template (never the path or query: see
// route-template.ts), the status, the time taken, the client when
// oidc-provider identified one, the client's address and browser.
// ACCESS_LOG=false turns it off, for deployments whose proxy keeps the
// access log.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { serializedLineWriter } from '../logging/logger.ts';
import { lastForwardedValue } from './issuer-origin.ts';
import type { RequestEndObserver } from './request-end.ts';
import { requestIdOf } from './request-id.ts';
import { routeOf } from './route-template.ts';
import { cappedUserAgent } from './user-agent.ts';


const CLIENT_ID = Symbol('latchkey.clientId');
type WithClient = IncomingMessage & { [CLIENT_ID]?: string };

/** Notes the client a request came from (oidc-provider's ctx.oidc.client, server/oidc/request-facts.ts). */
export function recordClientId(req: IncomingMessage, clientId: string): void {
  (req as WithClient)[CLIENT_ID] = clientId;
}

export const clientIdOf = (req: IncomingMessage): string | undefined => (req as WithClient)[CLIENT_ID];

export interface AccessLogOptions {
  /** Behind TRUST_PROXY the client's address is the last X-Forwarded-For entry (the one the proxy added). */
  trustProxy: boolean;
}

// A string field, or nothing when absent (as pino leaves out an undefined field).
const text = (name: string, value: string | undefined) => (value === undefined ? '' : `"${name}":${JSON.stringify(value)}`);

/** The access log as an observer of each request's end (see request-end.ts). */
export function accessLog(logger: Logger, options: AccessLogOptions): RequestEndObserver {
  const write = serializedLineWriter(logger);
  const ipOf = (req: IncomingMessage) =>
    (options.trustProxy ? lastForwardedValue(req.headers['x-forwarded-for']) : undefined) ?? req.socket.remoteAddress;
  return (req, res, durationMs) => {
    const status = res.statusCode;
    // Serialized by hand (see serializedLineWriter). The request id is named
    // here: 'close' may fire outside the request's async context.
    const fields = [
      text('request_id', requestIdOf(req)),
      text('method', req.method),
      `"route":${JSON.stringify(routeOf(req))}`,
      `"status":${status}`,
      `"duration_ms":${Math.round(durationMs * 100) / 100}`,
      text('client_id', clientIdOf(req)),
      text('ip', ipOf(req)),
      text('user_agent', cappedUserAgent(req.headers['user-agent'])),
      res.writableFinished ? '' : '"aborted":true',
      '"msg":"request"',
    ].filter(Boolean).join(',');
    // A failed request is already logged as an error with its cause; its
    // access line is a warning, so LOG_LEVEL=warn still shows what failed.
    write(status >= 500 ? 'warn' : 'info', fields);
  };
}
