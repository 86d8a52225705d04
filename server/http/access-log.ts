// The access log: one pino line per request once its answer is sent (or the
// client went away), with the method, the route template (never the path or
// query: see route-template.ts), the status, the time taken, the client when
// oidc-provider identified one, the client's address and browser. The logger
// adds the request id. ACCESS_LOG=false turns it off, for deployments whose
// proxy keeps the access log.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { lastForwardedValue } from './issuer-origin.ts';
import { requestIdOf } from './request-id.ts';
import { routeOf } from './route-template.ts';

const USER_AGENT_MAX = 256; // a header of any length is the client's choice; a log line's size is not

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

/** A function to call as a request arrives; it logs the request's line when its answer is done. */
export function accessLog(logger: Logger, options: AccessLogOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const ipOf = (req: IncomingMessage) =>
    (options.trustProxy ? lastForwardedValue(req.headers['x-forwarded-for']) : undefined) ?? req.socket.remoteAddress;
  return (req, res) => {
    const start = performance.now();
    // 'close' follows 'finish' on every answer, and comes alone when the client left first.
    res.once('close', () => {
      const status = res.statusCode;
      const agent = req.headers['user-agent'];
      const line = {
        // Named here: 'close' may fire outside the request's async context.
        request_id: requestIdOf(req),
        method: req.method,
        route: routeOf(req),
        status,
        duration_ms: Math.round((performance.now() - start) * 100) / 100,
        client_id: clientIdOf(req),
        ip: ipOf(req),
        user_agent: agent !== undefined && agent.length > USER_AGENT_MAX ? agent.slice(0, USER_AGENT_MAX) : agent,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      // A failed request is already logged as an error with its cause; its
      // access line is a warning, so LOG_LEVEL=warn still shows what failed.
      if (status >= 500) logger.warn(line, 'request');
      else logger.info(line, 'request');
    });
  };
}
