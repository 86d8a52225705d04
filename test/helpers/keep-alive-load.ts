// Load over keep-alive connections that counts what happened to every request,
// for the shutdown test and bench/sigterm.ts: each worker owns one connection
// (its own agent) and sends the same request again as soon as the last one
// was answered. A request the server never accepted (ECONNREFUSED: nothing
// listens) ends its worker; one that was written and then lost (a reset, a
// hang-up before the answer) is a failure the server must never cause.
import { Agent, request } from 'node:http';

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadStats {
  /** Complete answers, by status. */
  statuses: Record<number, number>;
  answered: number;
  /** Complete answers to requests sent after mark(). */
  answeredAfterMark: number;
  /** Answers that came with `Connection: close` after mark(). */
  closedAfterMark: number;
  /** Requests written and then lost: reset or hung up before a complete answer. */
  lost: number;
  /** Error codes of the lost requests. */
  lostCodes: Record<string, number>;
  /** Connection attempts refused (nothing listening): no request was accepted. */
  refused: number;
}

export interface KeepAliveLoad {
  stats: LoadStats;
  /** Marks the moment (e.g. the SIGTERM): later answers are counted apart. */
  mark(): void;
  /** Stops sending; resolves once every worker's last request settled. */
  stop(): Promise<LoadStats>;
  /** Resolves when every worker has ended by itself (all refused). */
  ended: Promise<LoadStats>;
}

export function keepAliveLoad(port: number, connections: number, send: LoadRequest): KeepAliveLoad {
  const stats: LoadStats = { statuses: {}, answered: 0, answeredAfterMark: 0, closedAfterMark: 0, lost: 0, lostCodes: {}, refused: 0 };
  let marked = false;
  let stopped = false;

  const once = (agent: Agent): Promise<'again' | 'refused'> => new Promise((resolve) => {
    const afterMark = marked;
    const outgoing = request({ host: '127.0.0.1', port, agent, method: send.method, path: send.path, headers: send.headers }, (response) => {
      response.on('data', () => {});
      response.on('end', () => {
        stats.statuses[response.statusCode!] = (stats.statuses[response.statusCode!] ?? 0) + 1;
        stats.answered++;
        if (afterMark) {
          stats.answeredAfterMark++;
          if (response.headers.connection === 'close') stats.closedAfterMark++;
        }
        resolve('again');
      });
      response.on('error', () => {}); // the request's 'error' (below) counts it
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        stats.refused++;
        resolve('refused');
        return;
      }
      const code = error.code ?? error.message;
      stats.lost++;
      stats.lostCodes[code] = (stats.lostCodes[code] ?? 0) + 1;
      resolve('again');
    });
    outgoing.end(send.body);
  });

  const worker = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (!stopped && (await once(agent)) === 'again');
    } finally {
      agent.destroy();
    }
  };
  const workers = Promise.all(Array.from({ length: connections }, worker)).then(() => stats);
  return {
    stats,
    mark: () => { marked = true; },
    stop: () => { stopped = true; return workers; },
    ended: workers,
  };
}

export interface Probe {
  /** Each answer: ms since mark() (or epoch ms before it), status, received after mark(). */
  answers: Array<{ at: number; status: number; afterMark: boolean }>;
  /** Error codes of probes that failed other than refused. */
  errors: string[];
  mark(): void;
  stop(): Promise<void>;
}

/** GETs `path` every `everyMs` on one keep-alive connection until stopped or refused. */
export function probeLoop(port: number, path: string, everyMs: number): Probe {
  const answers: Probe['answers'] = [];
  const errors: string[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let markedAt: number | undefined;
  let stopped = false;
  const get = () => new Promise<boolean>((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, agent, path, headers: { host: `localhost:${port}` } }, (response) => {
      response.on('data', () => {});
      response.on('end', () => {
        // Received after the mark: a probe sent just before a SIGTERM may be judged after it.
        answers.push({ at: Date.now() - (markedAt ?? 0), status: response.statusCode!, afterMark: markedAt !== undefined });
        resolve(true);
      });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNREFUSED') errors.push(`${markedAt === undefined ? 'before' : 'after'} mark: ${error.code ?? error.message}`);
      resolve(error.code !== 'ECONNREFUSED');
    });
    outgoing.end();
  });
  const loop = (async () => {
    while (!stopped && await get()) await new Promise((resolve) => setTimeout(resolve, everyMs));
    agent.destroy();
  })();
  return { answers, errors, mark: () => { markedAt = Date.now(); }, stop: () => { stopped = true; return loop; } };
}
