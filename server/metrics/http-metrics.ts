// HTTP request metrics: every request is counted once, when its answer ends,
// under its route template (/interaction/:uid/password, never the uid; see
// server/http/route-template.ts, which the access log and traces use too),
// method and status. A request nobody routed is "unmatched", so a scan of
// random paths adds no series.
import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * Returns the function the request listener calls first with every request.
 * Cheap on the token path: one listener and a cached pair of cells per
 * (route, method, status), looked up by one string key.
 */
export function httpMetrics(metrics: LatchkeyMetrics): (req: IncomingMessage, res: ServerResponse) => void {
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
  return (req, res) => {
    const started = performance.now();
    // 'close' comes for every response, answered or abandoned by the client.
    res.once('close', () => {
      const status = res.writableFinished ? String(res.statusCode) : 'aborted';
      const { requests, duration } = childrenFor(routeOf(req), methodLabel(req.method), status);
      requests.inc();
      duration.observe((performance.now() - started) / 1000);
    });
  };
}
