// A client that announces a body and never finishes sending it: the slowloris
// shape that kept the server alive through a SIGTERM before there was a deadline.
import { connect, type Socket } from 'node:net';

export interface SlowBodyClient {
  socket: Socket;
  /** Resolves when the server closed the connection, with whatever it answered. */
  closed: Promise<string>;
}

/** Connects, sends a POST announcing `Content-Length: 100` and sends 11 body bytes. */
export function slowBodyClient(port: number): Promise<SlowBodyClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`POST /token HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=`);
      resolve({ socket, closed });
    });
    let received = '';
    socket.on('data', (chunk) => { received += chunk; });
    const closed = new Promise<string>((done) => socket.once('close', () => done(received)));
    socket.once('error', reject);
  });
}
