// The metrics listener: GET /metrics in the Prometheus text format, on its own
// port (METRICS_PORT, loopback by default), so the public listener never
// serves it and a proxy in front of Latchkey cannot expose it by mistake.
// Nothing else is served here.
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';

/** What the listener serves: one process's registry (LatchkeyMetrics), or the workers' sum (server/cluster/primary.ts). */
export interface MetricsSource {
  exposition(): Promise<string>;
}

export function createMetricsServer(metrics: MetricsSource, onError: (error: unknown) => void): Server {
  return createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8', ...(path === '/metrics' ? { Allow: 'GET, HEAD' } : {}) });
      res.end(path === '/metrics' ? 'method not allowed\n' : 'not found\n');
      return;
    }
    metrics.exposition().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        onError(error);
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('metrics unavailable\n');
      },
    );
  });
}

/** Starts the metrics listener; resolves with the bound port (METRICS_PORT=0 picks a free one). */
export function listenMetrics(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
