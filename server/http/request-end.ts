// What happens once a request's answer ends (or its client leaves): the HTTP
// metrics and the access log both observe that moment. One 'close' listener
// and one clock reading per request serve every observer: on the token path
// each listener and closure is a measurable share of a request's cost.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Called once per request when its response closes; `durationMs` runs from arrival to that moment. */
export type RequestEndObserver = (req: IncomingMessage, res: ServerResponse, durationMs: number) => void;

/**
 * A function to call as each request arrives, which calls every observer when
 * its response closes; undefined when there is nothing to observe.
 */
export function observeRequestEnd(observers: readonly (RequestEndObserver | undefined)[]): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  const active = observers.filter((observer) => observer !== undefined);
  if (active.length === 0) return undefined;
  return (req, res) => {
    const started = performance.now();
    // 'close' follows 'finish' on every answer, and comes alone when the client left first.
    res.on('close', () => {
      const durationMs = performance.now() - started;
      for (const observer of active) observer(req, res, durationMs);
    });
  };
}
