// Ends an HTTP server's work without losing an accepted request, within a
// deadline whatever its clients do.
//
// http.Server#close alone is wrong both ways: it destroys every idle
// keep-alive socket at once, resetting a request a client is writing on one
// at that instant (4-23 resets a SIGTERM under load, measured), and it then
// waits for busy keep-alive connections that never go idle under load, or a
// client that never finishes its body, for ever. Here instead:
// - the listener closes, so no new connection is accepted;
// - every answer still to be written says `Connection: close`, and the
//   socket closes once it is written: the client knows not to reuse it;
// - a socket that has been idle IDLE_GRACE_MS is closed (one that was just
//   answered gets that long to send its next request, which is then answered
//   with `Connection: close`);
// - at the deadline every remaining socket is destroyed (slow bodies, idle
//   sockets, answers still running).
import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/** A keep-alive client's next request arrives well within this. */
export const IDLE_GRACE_MS = 1_000;
const SWEEP_MS = 50;

interface Connection {
  /** Answers not yet finished (several when the client pipelines). */
  open: Set<ServerResponse>;
  idleSince: number;
}

export interface DrainResult {
  /** Connections destroyed at the deadline (their requests got no answer). */
  cut: number;
  ms: number;
}

export interface ConnectionTracker {
  /** True once drain() was called. */
  readonly draining: boolean;
  /** Open connections now. */
  readonly connections: number;
  /**
   * Stops accepting, ends keep-alive as above and resolves once no connection
   * is left, or at `deadlineMs` after destroying what is.
   */
  drain(deadlineMs: number): Promise<DrainResult>;
}

/** Tracks `server`'s connections from now on; call before it listens. */
export function trackConnections(server: Server, idleGraceMs = IDLE_GRACE_MS): ConnectionTracker {
  const connections = new Map<Socket, Connection>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    connections.set(socket, { open: new Set(), idleSince: Date.now() });
    socket.once('close', () => connections.delete(socket));
  });
  // First, before the application's listener can write a header.
  server.prependListener('request', (req, res) => {
    const connection = connections.get(req.socket);
    if (draining) res.shouldKeepAlive = false;
    if (!connection) return;
    connection.open.add(res);
    res.once('close', () => {
      connection.open.delete(res);
      connection.idleSince = Date.now();
    });
  });

  const closeIdle = () => {
    const now = Date.now();
    for (const [socket, connection] of connections) {
      if (connection.open.size === 0 && now - connection.idleSince >= idleGraceMs) socket.destroy();
    }
  };

  return {
    get draining() { return draining; },
    get connections() { return connections.size; },
    drain(deadlineMs) {
      if (draining) throw new Error('already draining');
      draining = true;
      const started = Date.now();
      // net.Server's close: stop listening without http.Server's closeIdleConnections().
      NetServer.prototype.close.call(server);
      for (const { open } of connections.values()) {
        for (const res of open) if (!res.headersSent) res.shouldKeepAlive = false;
      }
      return new Promise((resolve) => {
        const finish = (cut: number) => {
          clearInterval(sweep);
          clearTimeout(deadline);
          resolve({ cut, ms: Date.now() - started });
        };
        const sweep = setInterval(() => {
          closeIdle();
          if (connections.size === 0) finish(0);
        }, SWEEP_MS);
        const deadline = setTimeout(() => {
          const cut = connections.size;
          for (const socket of connections.keys()) socket.destroy();
          finish(cut);
        }, deadlineMs);
        closeIdle();
        if (connections.size === 0) finish(0);
      });
    },
  };
}
