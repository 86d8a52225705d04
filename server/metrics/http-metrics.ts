// HTTP request metrics: every request is counted once, when its answer ends,
// under its route template (/interaction/:uid/password, never the uid; see
// server/http/route-template.ts, which the access log and traces use too),
// method and status. A request nobody routed is "unmatched", so a scan of
// random paths adds no series.
import type { RequestEndObserver } from '../http/request-end.ts';
import { routeOf } from '../http/route-template.ts';
import type { CounterCell, HistogramCell } from './cells.ts';
import type { LatchkeyMetrics } from './registry.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);
/** An HTTP method as a label: the standard ones, anything else "other". */
export const methodLabel = (method: string | undefined): string => (method && METHODS.has(method) ? method : 'other');

interface Children {
  requests: CounterCell;
  duration: HistogramCell;
}

/**
 * The HTTP metrics as an observer of each request's end (see
 * server/http/request-end.ts). Cheap on the token path: a cached pair of
 * cells per (route, method, status), looked up by one string key.
 */
export function httpMetrics(metrics: LatchkeyMetrics): RequestEndObserver {
  const children = new Map<string, Children>();
  const childrenFor = (route: string, method: string, status: string): Children => {
    const key = `${route} ${method} ${status}`;
    let found = children.get(key);
    if (!found) {
      found = { requests: metrics.httpRequests.cell(route, method, status), duration: metrics.httpDuration.cell(route, method) };
      children.set(key, found);
    }
    return found;
  };
  return (req, res, durationMs) => {
    const status = res.writableFinished ? String(res.statusCode) : 'aborted';
    const { requests, duration } = childrenFor(routeOf(req), methodLabel(req.method), status);
    requests.inc();
    duration.observe(durationMs / 1000);
  };
}
