// needs:
// What a first `npm start` on a laptop gives: a development server that
// listens on loopback only (HOST unset), and a page at `/` pointing a person
// to the account page and a developer to the discovery document.
import test from 'ava';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

let server: RunningServer;

test.before(async () => {
  // HOST empty is HOST unset (the helper sets 127.0.0.1 otherwise).
  server = await startServer({ mode: 'embedded', env: { HOST: '' } });
});
test.after.always(async () => {
  await server?.stop();
});

/** Resolves to the connection's error code, or 'connected'. */
const tryConnect = (host: string, port: number) => new Promise<string>((resolve) => {
  const socket = connect({ host, port, timeout: 2000 });
  socket.once('connect', () => { socket.destroy(); resolve('connected'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
});

test('development without HOST listens on 127.0.0.1 only', async (t) => {
  t.regex(server.output(), new RegExp(`listening on 127\\.0\\.0\\.1:${server.port}, development mode`));
  t.is(await tryConnect('127.0.0.1', server.port), 'connected');
  const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
  if (!external) return t.log('no non-loopback IPv4 address on this machine: only the banner was checked');
  t.is(await tryConnect(external.address, server.port), 'ECONNREFUSED', `nothing listens on ${external.address}`);
});

test('/ is a small page linking to /account and the discovery document, under the page CSP', async (t) => {
  const response = await fetch(`${server.issuer}/`);
  t.is(response.status, 200);
  t.regex(response.headers.get('content-type') ?? '', /^text\/html/);
  const page = await response.text();
  t.regex(page, /<title>[^<]+ · Latchkey<\/title>/, 'the shared layout');
  t.regex(page, /<a href="\/account">/);
  t.regex(page, /<a href="\/\.well-known\/openid-configuration">/);
  t.false(page.includes('Not Found'));
  const nonce = /<style nonce="([^"]+)">/.exec(page)?.[1];
  t.truthy(nonce, 'the layout style carries a nonce');
  t.true((response.headers.get('content-security-policy') ?? '').includes(`'nonce-${nonce}'`), 'the CSP names the page nonce');

  t.is((await fetch(`${server.issuer}/`, { method: 'HEAD' })).status, 200);
  t.is((await fetch(`${server.issuer}/`, { method: 'POST' })).status, 404, 'only GET and HEAD');
  t.is((await fetch(`${server.issuer}//`)).status, 404, 'no other spelling');
});
