// needs: postgres redis
// C36 password policy (NIST SP 800-63B / ASVS): fewer than 8 characters
// refused, long passwords (64, 100, 200 characters) accepted, no composition
// rules, common passwords refused - for `users create` and
// `users set-password` - and no truncation: with a 100-character password,
// changing character 90 (or 100) makes the login form refuse it.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { parseForm } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  browserFor, createWebClient, openLoginPage, REDIRECT_URI,
  type TestClient,
} from './_support-pages.ts';

let server: RunningServer;
let client: TestClient;

test.before(async () => {
  server = await startServer();
  client = await createWebClient(server, { firstParty: true });
});
test.after.always(async () => {
  await server?.stop();
});

const newEmail = () => `policy-${randomBytes(4).toString('hex')}@example.test`;

/** A password of `length` characters with no pattern a policy could object to. */
function randomPassword(length: number): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!';
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

const createUser = (email: string, password: string) =>
  server.cli(['users', 'create', '--email', email, '--name', 'Policy Test', '--password-stdin', '--json'], { stdin: password });
const setPassword = (email: string, password: string) =>
  server.cli(['users', 'set-password', email, '--password-stdin', '--json'], { stdin: password });

/** Signs in through the real login form; true when the server accepted the password. */
async function logIn(email: string, password: string): Promise<boolean> {
  const browser = browserFor(server);
  const login = await openLoginPage(browser, server.issuer, client.client_id);
  const { action, fields } = parseForm(login.html, /\/login$/);
  const step = await browser.follow(action, { method: 'POST', headers: { origin: browser.origin }, form: { ...fields, email, password } });
  if (step.location?.startsWith(`${REDIRECT_URI}?`) && new URL(step.location).searchParams.get('code')) return true;
  if (step.response.status === 401 && /name="password"/.test(step.html)) return false;
  throw new Error(`unexpected answer to a login: ${step.response.status} ${step.location ?? step.url}`);
}

test('C36 users create refuses a password shorter than 8 characters with a clear message', async (t) => {
  for (const password of ['Xk7#pQ2', 'a1!', '🦊🐙🦉🐢🦔🐝🦋']) { // 7 code points, then 3; 7 emoji are 14 UTF-16 units but 7 characters
    const email = newEmail();
    const run = await createUser(email, password);
    t.is(run.code, 1, `${JSON.stringify(password)}: ${run.stdout}`);
    t.regex(run.stderr, /at least 8 characters/);
    t.is((await server.cli(['users', 'show', email])).code, 1, 'no account was created');
  }
});

test('C36 users create accepts 8 characters and long passwords (64, 100, 200 characters)', async (t) => {
  for (const length of [8, 64, 100, 200]) {
    const email = newEmail();
    const password = randomPassword(length);
    const run = await createUser(email, password);
    t.is(run.code, 0, `${length} characters: ${run.stderr}`);
    t.true(await logIn(email, password), `${length}-character password signs in`);
  }
});

test('C36 no composition rules: lower-case only, digits only, upper-case only, and a passphrase with spaces are accepted', async (t) => {
  for (const password of ['zqxwvjkp', '90817263', 'ZQXWVJKP', 'violet tractor humming lagoon']) {
    const email = newEmail();
    const run = await createUser(email, password);
    t.is(run.code, 0, `${JSON.stringify(password)}: ${run.stderr}`);
    t.true(await logIn(email, password), `${JSON.stringify(password)} signs in`);
  }
});

test('C36 common passwords are refused', async (t) => {
  for (const password of ['password123', 'Password123!', 'qwertyuiop', '12345678']) {
    const email = newEmail();
    const run = await createUser(email, password);
    t.is(run.code, 1, `${JSON.stringify(password)} was accepted`);
    t.regex(run.stderr, /common/, JSON.stringify(password));
  }
});

test('C36 users set-password applies the same policy', async (t) => {
  const email = newEmail();
  const original = randomPassword(16);
  t.is((await createUser(email, original)).code, 0);

  for (const [password, message] of [['Xk7#pQ2', /at least 8 characters/], ['password123', /common/]] as const) {
    const run = await setPassword(email, password);
    t.is(run.code, 1, `${password} was accepted`);
    t.regex(run.stderr, message);
  }
  t.true(await logIn(email, original), 'refused changes left the old password in place');

  for (const password of ['zqxwvjkp', randomPassword(100)]) {
    const run = await setPassword(email, password);
    t.is(run.code, 0, `${password.length} characters: ${run.stderr}`);
    t.true(await logIn(email, password));
  }
});

test('C36 no truncation: with a 100-character password, changing character 90 or 100 fails the login, the exact one succeeds', async (t) => {
  const email = newEmail();
  const password = randomPassword(100);
  t.is((await createUser(email, password)).code, 0);

  const change = (index: number) => password.slice(0, index) + (password[index] === 'a' ? 'b' : 'a') + password.slice(index + 1);
  // A success after every few failures keeps the sign-in throttle (C35: 5
  // failures per account and IP) out of this test.
  t.false(await logIn(email, change(89)), 'character 90 changed');
  t.false(await logIn(email, change(99)), 'character 100 changed');
  t.false(await logIn(email, password.slice(0, 72)), 'first 72 characters only (bcrypt-style truncation)');
  t.true(await logIn(email, password), 'the exact password');
  t.false(await logIn(email, password.slice(0, 99)), 'last character missing');
  t.false(await logIn(email, `${password}x`), 'one character appended');
  t.true(await logIn(email, password), 'the exact password, again');
});
