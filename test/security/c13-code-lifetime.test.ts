// needs: postgres redis
// C13: authorization codes live at most 60 s (RFC 9700 §4.5 / RFC 6749
// §4.1.2 "a maximum authorization code lifetime of 10 minutes is
// RECOMMENDED"; Latchkey promises 60 s). The server runs with
// AUTHORIZATION_CODE_TTL=3s so an expired code can be redeemed within the
// test; the configuration ceiling is checked on the real server binary too.
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../server/config/index.ts';
import { NODE, ROOT, startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, obtainCode, redeemCode, sleep,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

const CODE_TTL_SECONDS = 3;

let server: RunningServer;
let client: RegisteredClient;
let user: User;

test.before(async () => {
  server = await startServer({ env: { AUTHORIZATION_CODE_TTL: `${CODE_TTL_SECONDS}s` } });
  client = await createClient(server);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

test('C13 a code redeemed after its lifetime is invalid_grant', async (t) => {
  const issued = await obtainCode(server, client, user);
  await sleep((CODE_TTL_SECONDS + 1.5) * 1000);
  const late = await redeemCode(server, client, issued);
  t.is(late.status, 400, late.text);
  t.is(late.body.error, 'invalid_grant');
  t.falsy(late.body.access_token);
});

test('C13 the same kind of code redeemed within its lifetime works (control)', async (t) => {
  const issued = await obtainCode(server, client, user);
  const prompt = await redeemCode(server, client, issued);
  t.is(prompt.status, 200, prompt.text);
  t.truthy(prompt.body.access_token);
});

test('C13 the default code lifetime is at most 60 s', (t) => {
  const config = loadConfig({ NODE_ENV: 'test' });
  t.true(config.ttl.authorizationCode > 0);
  t.true(config.ttl.authorizationCode <= 60, `default AUTHORIZATION_CODE_TTL is ${config.ttl.authorizationCode}s`);
});

/** Runs the real server entry point with `env` over the test server's and returns how it exited. */
function runServerExpectingExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [join(ROOT, 'server', 'main.ts')], { cwd: ROOT, env: { ...process.env, ...server.env, PORT: '0', ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, 20_000);
    child.once('error', reject);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

test('C13 the server refuses to start with a code lifetime above 60 s', async (t) => {
  const run = await runServerExpectingExit({ AUTHORIZATION_CODE_TTL: '61s' });
  t.is(run.code, 1, run.output);
  t.regex(run.output, /AUTHORIZATION_CODE_TTL/);
  t.notRegex(run.output, /Latchkey is running/);
});
