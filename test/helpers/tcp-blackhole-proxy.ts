// A TCP proxy in front of a real store that a test can switch between
// forwarding and hanging: while hanging it accepts connections and reads
// nothing, writes nothing (every byte waits in the kernel's buffers), like a
// store that stopped answering without closing anything (SIGSTOP, a stalled
// disk, a partition); switched back, everything it held goes through. It can
// also play a store that was stopped: every connection is closed and the port
// refuses new ones until it is started again (on the same port).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface BlackholeProxy {
  port: number;
  /** Rewrites a store URL (postgres://..., redis://...) to go through the proxy. */
  url(storeUrl: string): string;
  hang(): void;
  forward(): void;
  /** Closes every connection and refuses new ones (the store stopped). */
  stop(): Promise<void>;
  /** Accepts connections again on the same port, forwarding (the store started). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startBlackholeProxy(target: { host: string; port: number }): Promise<BlackholeProxy> {
  const sockets = new Set<Socket>();
  let hanging = false;
  const pipe = (from: Socket, to: Socket) => {
    from.on('data', (chunk) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => { if (!hanging) from.resume(); });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      if (hanging) socket.pause();
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url(storeUrl) {
      const url = new URL(storeUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    hang() {
      hanging = true;
      for (const socket of sockets) socket.pause();
    },
    forward() {
      hanging = false;
      for (const socket of sockets) socket.resume();
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    async start() {
      hanging = false;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
