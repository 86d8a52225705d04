// needs:
// The first-run experience: `npm start` with no database or Redis (embedded
// mode), the CLI through `npx latchkey` as the start-up banner suggests, and a
// machine token obtained and verified with openid-client and jose. Then the
// whole process tree (npm and the node server it spawns) must be gone.
import test from 'ava';
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import * as client from 'openid-client';
import { ROOT, startServer, type RunningServer } from '../helpers/server-process.ts';
import { discover, eventually } from './support.ts';

let server: RunningServer;
let dataDir: string;

test.before(async () => {
  server = await startServer({ mode: 'embedded', command: ['npm', 'start'] });
  dataDir = server.env.DATA_DIR;
});

test.after.always(async () => {
  await server?.stop();
  if (!dataDir) return;
  // stop() may return before npm's child has exited (see the last test): don't delete its folder under it.
  await eventually('server gone', async () => (processesOfThisServer().length === 0 ? true : undefined), 15_000).catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

interface Run { code: number; stdout: string; stderr: string }

/**
 * `npx latchkey <args>` from the project folder with the server's environment,
 * as the start-up banner tells the user to run it. (`--no` only stops npx from
 * ever fetching a same-named package from the registry when the project's own
 * bin does not resolve: that must fail the test, not install something.)
 */
function npxLatchkey(args: string[], stdin = ''): Promise<Run> {
  const { DATABASE_URL: _d, REDIS_URL: _r, LATCHKEY_SECRET: _s, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no', 'latchkey', ...args], { cwd: ROOT, env: { ...inherited, ...server.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.stdin.end(stdin);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function npxJson<T = Record<string, any>>(args: string[], stdin?: string): Promise<T> {
  const run = await npxLatchkey([...args, '--json'], stdin);
  if (run.code !== 0) throw new Error(`npx latchkey ${args.join(' ')} exited ${run.code}:\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout) as T;
}

/** Live (non-zombie) processes started with this test's DATA_DIR: npm, its shell, the server, CLI runs. */
function processesOfThisServer(): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environ.includes(`DATA_DIR=${dataDir}`)) continue;
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state === 'Z' || state === 'X') continue;
      found.push({ pid: Number(entry), argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found;
}

/** The node process running server/main.ts (not npm, not the shell npm runs the script with). */
const serverNodeProcesses = () => processesOfThisServer()
  .filter(({ argv }) => /(^|\/)node$/.test(argv[0] ?? '') && argv.some((arg) => arg.endsWith('server/main.ts')));

test.serial('npm start: the banner names the issuer, the data folder and the next CLI command', async (t) => {
  const banner = await eventually('start-up banner', async () => (/Next, in another terminal:/.test(server.output()) ? server.output() : undefined));
  t.true(banner.includes(server.issuer), `issuer ${server.issuer} in:\n${banner}`);
  t.true(banner.includes(dataDir), `data folder ${dataDir} in:\n${banner}`);
  t.regex(banner, /embedded/i);
  t.regex(banner, /npx latchkey apis create --identifier \S+ --scope "[^"]+"/);
  t.is(serverNodeProcesses().length, 1, `one server process: ${JSON.stringify(processesOfThisServer())}`);

  const discovery = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json() as { issuer: string };
  t.is(discovery.issuer, server.issuer);
});

test.serial('npx latchkey against the running server: API, machine client, user, then a verified token', async (t) => {
  // The command the banner prints, as printed.
  const suggested = /npx latchkey (apis create --identifier (\S+) --scope "([^"]+)")/.exec(server.output());
  t.truthy(suggested, 'the banner suggests an apis create command');
  const [, , identifier, scopes] = suggested!;
  const api = await npxJson<{ identifier: string; scopes: string[] }>(['apis', 'create', '--identifier', identifier, '--scope', scopes, '--ttl', '90']);
  t.is(api.identifier, identifier);
  t.deepEqual(api.scopes, scopes.split(' '));

  const firstScope = scopes.split(' ')[0];
  const created = await npxJson<{ client_id: string; client_secret: string }>([
    'clients', 'create', '--name', 'Smoke machine', '--grant', 'client_credentials', '--api', identifier, '--scope', firstScope,
  ]);
  t.is(typeof created.client_secret, 'string');

  const user = await npxJson<{ id: string; email: string; disabled: boolean }>(
    ['users', 'create', '--email', 'smoke@example.com', '--name', 'Smoke Test', '--password-stdin'], 'a perfectly fine smoke passphrase\n');
  t.is(user.email, 'smoke@example.com');
  t.false(user.disabled);
  const listed = await npxJson<{ users: { id: string; email: string }[] }>(['users', 'list']);
  t.deepEqual(listed.users.map((u) => [u.id, u.email]), [[user.id, 'smoke@example.com']]);

  const config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  const tokens = await client.clientCredentialsGrant(config, { scope: firstScope });
  t.is(tokens.refresh_token, undefined);
  const { payload, protectedHeader } = await jose.jwtVerify(tokens.access_token, jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), {
    issuer: server.issuer, audience: identifier, typ: 'at+jwt',
  });
  t.is(protectedHeader.alg, 'ES256');
  t.is(payload.client_id, created.client_id);
  t.is(payload.scope, firstScope);
  t.is(payload.exp! - payload.iat!, 90);
});

/**
 * Opens a request the server is still reading when it is told to stop (headers
 * sent, body not yet), so its graceful shutdown cannot finish before we let go.
 */
function holdRequestOpen(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /token HTTP/1.1\r\nHost: localhost:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\ngrant_type=`);
      setTimeout(() => resolve(socket), 200); // let the server parse the headers
    });
    socket.once('error', reject);
  });
}

test.serial('stop(): npm and the node server it spawned are both gone when it returns', async (t) => {
  const before = processesOfThisServer();
  const [node] = serverNodeProcesses();
  t.truthy(node, `the server is running: ${JSON.stringify(before)}`);
  const npm = before.find(({ argv }) => argv[0] === 'npm start');
  t.truthy(npm, `npm start is the parent: ${JSON.stringify(before)}`);
  const held = await holdRequestOpen(server.port);

  let returned = false;
  const stopping = server.stop().then(() => { returned = true; });
  let stillRunning: number[];
  let returnedEarly: boolean;
  try {
    // npm goes at once on SIGTERM; the server is still finishing the request we hold.
    await eventually('npm start exited', async () => (existsSync(`/proc/${npm!.pid}`) ? undefined : true), 15_000);
    await new Promise((resolve) => setImmediate(resolve));
    stillRunning = serverNodeProcesses().map(({ pid }) => pid);
    returnedEarly = returned;
  } finally {
    held.destroy(); // (assertions throw: let the server finish whatever happens)
    await stopping;
  }
  t.deepEqual(stillRunning!, [node.pid], 'the server is still shutting down (test precondition)');
  // The server exits on its own after SIGTERM once the request is done (not only when killed)...
  await eventually('server exit after SIGTERM', async () => (processesOfThisServer().length === 0 ? true : undefined), 15_000);
  await t.throwsAsync(fetch(`${server.issuer}/healthz`), undefined, 'nothing listens on the port any more');
  // ...with a clean shutdown: the embedded database closed and its socket removed.
  t.false(existsSync(join(dataDir, '.s.PGSQL.5432')), 'embedded database socket removed');
  // But stop() itself must not return while a process it started still runs:
  // callers reuse the port and DATA_DIR (or end the test run) right after it.
  t.false(returnedEarly!, `stop() returned while the server process ${node.pid} (npm start's child) was still running`);
});
