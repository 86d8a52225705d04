// One HTTP/1.1 request exactly as written: any Host header, an absolute-form
// target, undecodable paths and bodies (fetch rewrites or refuses all of
// these). For tests that send what a client library would not.
import { request, type IncomingHttpHeaders } from 'node:http';

export interface RawRequest {
  method?: string;
  /** The request target as sent: a path, or an absolute URL (absolute form). */
  target: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** The request fails (rejects) when no full answer came within this long. */
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function rawHttp(port: number, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // The test servers' issuer is http://localhost:<port>: that is the Host unless one is given.
    const headers: Record<string, string | string[]> = Object.keys(req.headers ?? {}).some((name) => name.toLowerCase() === 'host')
      ? { ...req.headers }
      : { host: `localhost:${port}`, ...req.headers };
    if (req.body !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(req.body));
    }
    const outgoing = request({
      host: '127.0.0.1', port, method: req.method ?? 'GET', path: req.target, headers,
      setHost: false,
      timeout: req.timeoutMs ?? 15_000,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${req.timeoutMs ?? 15_000} ms: ${req.method ?? 'GET'} ${req.target}`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}
