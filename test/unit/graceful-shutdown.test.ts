// The connection tracker on a real in-process HTTP server: no request that
// reached it is lost, keep-alive ends with Connection: close, idle and slow
// sockets are closed, and drain() never outlives its deadline.
import test from 'ava';
import { once } from 'node:events';
import { Agent, createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';
import { trackConnections } from '../../server/http/graceful-shutdown.ts';

const GRACE = 200;

async function serve(handler: Parameters<typeof createServer>[1]) {
  const server: Server = createServer(handler);
  const tracker = trackConnections(server, GRACE);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, tracker, port: (server.address() as { port: number }).port };
}

function get(port: number, agent: Agent | false, path = '/') {
  return new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode!, connection: response.headers.connection, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test('a request running when drain begins is answered in full with Connection: close; then nothing is listening', async (t) => {
  let started!: () => void;
  const running = new Promise<void>((resolve) => { started = resolve; });
  const { tracker, port } = await serve((req, res) => {
    started();
    setTimeout(() => res.end('done'), 150);
  });
  const agent = new Agent({ keepAlive: true });
  const answer = get(port, agent);
  await running;
  const drained = tracker.drain(5_000);
  t.true(tracker.draining);
  t.deepEqual(await answer, { status: 200, connection: 'close', body: 'done' });
  t.deepEqual((await drained).cut, 0);
  await t.throwsAsync(get(port, false), { code: 'ECONNREFUSED' });
  agent.destroy();
});

test('a keep-alive connection that sends its next request within the grace gets it answered with Connection: close', async (t) => {
  const { tracker, port } = await serve((req, res) => res.end('ok'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.is((await get(port, agent)).connection, 'keep-alive');
  const drained = tracker.drain(5_000);
  t.deepEqual(await get(port, agent), { status: 200, connection: 'close', body: 'ok' });
  t.is((await drained).cut, 0);
  agent.destroy();
});

test('an idle keep-alive connection is closed once idle for the grace, well before the deadline', async (t) => {
  const { tracker, port } = await serve((req, res) => res.end('ok'));
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.write(`GET / HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await once(socket, 'data');
  const closed = once(socket, 'close');
  const result = await tracker.drain(10_000);
  await closed;
  t.is(result.cut, 0);
  t.true(result.ms >= GRACE - 20 && result.ms < 5_000, `${result.ms} ms`);
});

test('a client that never finishes its body is cut at the deadline, and drain resolves then', async (t) => {
  const { tracker, port } = await serve((req, res) => {
    req.resume();
    req.on('end', () => res.end('never'));
  });
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.write(`POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\ngrant_type=`);
  socket.on('error', () => {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(tracker.connections, 1);
  const closed = once(socket, 'close');
  const result = await tracker.drain(400);
  await closed;
  t.is(result.cut, 1);
  t.true(result.ms >= 390 && result.ms < 5_000, `${result.ms} ms`);
});

test('drain with no connection open resolves at once', async (t) => {
  const { tracker } = await serve((req, res) => res.end());
  const result = await tracker.drain(10_000);
  t.is(result.cut, 0);
  t.true(result.ms < 1_000);
  t.throws(() => tracker.drain(10_000), { message: 'already draining' });
});
