// Latchkey has one issuer: every URL it issues or accepts (discovery, form
// actions, the `aud` a client assertion must carry) is built from ISSUER,
// never from the request. oidc-provider and Koa build URLs from the request's
// Host, X-Forwarded-Host and X-Forwarded-Proto, so this runs first, on the raw
// request: it refuses a request aimed at another host (421, Keycloak's strict
// hostname), or one that did not reach the proxy over https (400), and then
// pins those headers to the issuer's values so nothing downstream can see
// anything else.
//
// Behind TRUST_PROXY, only the values the proxy itself added count: the LAST
// X-Forwarded-Host/-Proto/-For entry (a client can send its own first
// entries, which the proxy appends to). Without it, X-Forwarded-* are dropped.
// Health checks (/healthz, /healthz/...) come from load balancers that probe
// the process directly, so they are answered whatever Host and proto say.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface IssuerOriginOptions {
  issuer: string;
  trustProxy: boolean;
}

export interface RefusedRequest {
  status: 400 | 421;
  description: string;
}

const FORWARDED = ['x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-for'] as const;

/** Deletes only what is there: a delete turns the headers object into a slow dictionary (the token path reads it a lot). */
function dropForwarded(headers: IncomingMessage['headers']): void {
  for (const name of FORWARDED) if (headers[name] !== undefined) delete headers[name];
}

/** The proxy's own value: the last entry of a possibly repeated, comma-separated header. */
export function lastForwardedValue(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  const last = joined?.split(',').at(-1)?.trim();
  return last || undefined;
}

/** `host[:port]` as the URL parser normalises it for `protocol` (default port dropped, lower case), or undefined. */
function normaliseHost(host: string, protocol: string): string | undefined {
  if (!host || /[\s/?#@\\]/.test(host)) return undefined;
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}

const isHealthCheck = (path: string) => path === '/healthz' || path.startsWith('/healthz/');

export type IssuerPin = (req: IncomingMessage) => RefusedRequest | undefined;

/**
 * A function that checks a request against the issuer and pins its Host and
 * forwarded headers to the issuer's. It returns why a request is refused, or
 * undefined when the request may go on.
 */
export function issuerPin(options: IssuerOriginOptions): IssuerPin {
  const issuer = new URL(options.issuer);
  const scheme = issuer.protocol.slice(0, -1);
  const misdirected: RefusedRequest = { status: 421, description: `this server answers only for ${issuer.origin}` };
  const notThroughProxy: RefusedRequest = { status: 400, description: 'this server is reached over https through its proxy only (X-Forwarded-Proto: https)' };

  return (req) => {
    const health = isHealthCheck((req.url ?? '').split('?', 1)[0]);

    // An absolute-form request target (GET http://host/path) would become the base of every URL.
    const target = req.url ?? '';
    if (!target.startsWith('/')) {
      let url: URL | undefined;
      try {
        url = /^https?:\/\//i.test(target) ? new URL(target) : undefined;
      } catch {
        url = undefined;
      }
      if (!url) return { status: 400, description: 'the request target must be a path' };
      if (url.origin !== issuer.origin && !health) return misdirected;
      req.url = `${url.pathname}${url.search}`;
    }

    const forwardedHost = options.trustProxy ? lastForwardedValue(req.headers['x-forwarded-host']) : undefined;
    const given = forwardedHost ?? req.headers.host ?? '';
    // The exact issuer host is the common case: no parsing on the token path.
    if (given !== issuer.host && normaliseHost(given, issuer.protocol) !== issuer.host && !health) return misdirected;

    const { headers } = req;
    if (options.trustProxy) {
      const proto = lastForwardedValue(headers['x-forwarded-proto'])?.toLowerCase();
      // Plain http to an https issuer means the request bypassed the TLS proxy.
      if (scheme === 'https' && proto !== 'https' && !health) return notThroughProxy;
      const ip = lastForwardedValue(headers['x-forwarded-for']);
      dropForwarded(headers);
      headers['x-forwarded-proto'] = scheme;
      if (ip) headers['x-forwarded-for'] = ip;
    } else {
      dropForwarded(headers);
    }
    if (headers.host !== issuer.host) headers.host = issuer.host;
    return undefined;
  };
}

/** Answers a refused request (JSON, as the request never reached a page). */
export function answerRefused(res: ServerResponse, refused: RefusedRequest): void {
  res.statusCode = refused.status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify({ error: 'invalid_request', error_description: refused.description }));
}
