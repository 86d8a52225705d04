// node bench/sigterm.ts: what a SIGTERM does to a loaded Latchkey (production
// mode, real Postgres and Redis). Two runs:
// 1. 32 keep-alive connections of client_credentials token requests, SIGTERM
//    after SIGTERM_WARMUP s: requests lost (reset or hung up after being
//    written), answers served after the signal, readiness answers seen after
//    it, time until the process exited. The load keeps going until every
//    connection is refused or SIGTERM_CAP s passed.
// 2. One client that sends `Content-Length: 100` and 11 body bytes, then
//    SIGTERM: time until the process exited (at most SIGTERM_CAP s).
// A process still running at the cap is killed and reported as such.
// Env: SIGTERM_CONNECTIONS (32), SIGTERM_WARMUP (3), SIGTERM_CAP (30).
import { keepAliveLoad, probeLoop } from '../test/helpers/keep-alive-load.ts';
import { startServer, type RunningServer } from '../test/helpers/server-process.ts';
import { slowBodyClient } from '../test/helpers/slow-body-client.ts';

const CONNECTIONS = Number(process.env.SIGTERM_CONNECTIONS ?? 32);
const WARMUP = Number(process.env.SIGTERM_WARMUP ?? 3);
const CAP = Number(process.env.SIGTERM_CAP ?? 30);
const RESOURCE = 'https://bench.internal';
const SCOPE = 'bench:read';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Resolves with ms from `since` to the exit, or undefined at the cap. */
async function timeToExit(server: RunningServer, since: number): Promise<{ ms: number; code: number | null } | undefined> {
  const exit = await Promise.race([server.exited, sleep(CAP * 1000).then(() => undefined)]);
  return exit && { ms: Date.now() - since, code: exit.code };
}

async function underLoad() {
  const server = await startServer();
  try {
    await server.admin(['apis', 'create', '--identifier', RESOURCE, '--scope', SCOPE]);
    const client = await server.admin(['clients', 'create', '--name', 'sigterm', '--grant', 'client_credentials', '--api', RESOURCE, '--scope', SCOPE]);
    await sleep(1500); // the admin cache notices the new rows
    const authorization = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
    const load = keepAliveLoad(server.port, CONNECTIONS, {
      method: 'POST',
      path: '/token',
      headers: { host: `localhost:${server.port}`, authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    });
    const probe = probeLoop(server.port, '/healthz/ready', 50);
    await sleep(WARMUP * 1000);
    const before = { ...load.stats };
    const signalled = Date.now();
    load.mark();
    probe.mark();
    process.kill(server.pid, 'SIGTERM');
    const exit = await Promise.race([server.exited.then(() => 'exited'), load.ended.then(() => 'ended'), sleep(CAP * 1000).then(() => 'cap')]);
    const loadEnded = Date.now();
    const stats = await load.stop();
    await probe.stop();
    const exited = await timeToExit(server, signalled);
    const ready = probe.answers.filter((a) => a.afterMark).map((a) => a.status);
    console.log(`SIGTERM under ${CONNECTIONS} keep-alive connections of client_credentials (${before.answered} answers in ${WARMUP} s before it):`);
    console.log(`  requests lost after being written: ${stats.lost} ${JSON.stringify(stats.lostCodes)}`);
    console.log(`  answers after SIGTERM: ${stats.answeredAfterMark} (${stats.closedAfterMark} with Connection: close), statuses ${JSON.stringify(stats.statuses)}`);
    console.log(`  connections refused after SIGTERM: ${stats.refused}; load ${exit === 'cap' ? `stopped at the ${CAP} s cap` : `ended ${seconds(loadEnded - signalled)} after SIGTERM (${exit === 'exited' ? 'process exited' : 'every connection refused'})`}`);
    console.log(`  /healthz/ready after SIGTERM: ${ready.join(' ') || 'no answer'}`);
    console.log(`  exit: ${exited ? `code ${exited.code}, ${seconds(exited.ms)} after SIGTERM` : `still running ${CAP} s after the load stopped (killed)`}`);
  } finally {
    await server.stop();
  }
}

async function slowBody() {
  const server = await startServer();
  try {
    const client = await slowBodyClient(server.port);
    await sleep(200);
    const signalled = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const exited = await timeToExit(server, signalled);
    client.socket.destroy();
    console.log('SIGTERM with one client sending Content-Length: 100 and 11 body bytes:');
    console.log(`  exit: ${exited ? `code ${exited.code}, ${seconds(exited.ms)} after SIGTERM` : `still running after ${CAP} s (killed)`}`);
  } finally {
    await server.stop();
  }
}

await underLoad();
await slowBody();
