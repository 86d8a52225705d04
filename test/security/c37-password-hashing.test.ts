// needs: postgres redis
// C37 password hashing: stored hashes are argon2id with at least m=19456 KiB
// (19 MiB), t=2, p=1; when the configured cost rises, a user's hash is
// upgraded the next time they sign in (and only then: a failed sign-in must
// not touch it).
//
// Server A (default cost) creates the accounts; it is stopped and server B is
// started on the same database (same LATCHKEY_SECRET) with a higher
// ARGON2_MEMORY_KIB and ARGON2_TIME_COST; sign-ins go through B's login form.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { parseForm } from '../helpers/browser.ts';
import { createTestDatabase } from '../helpers/services.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { browserFor, createUser, createWebClient, openLoginPage, REDIRECT_URI, type TestClient, type TestDatabase, type TestUser } from './_support-pages.ts';
import { query } from './_support-page-checks.ts';

const RAISED = { memoryCost: 32768, timeCost: 3 };

let database: TestDatabase;
let serverA: RunningServer | undefined;
let serverB: RunningServer | undefined;
let client: TestClient;
let secretOfA: string;
const users: Record<'upgraded' | 'failed' | 'reset', TestUser> = {} as never;
const hashesAtA: Record<string, string> = {};

interface Argon2Hash {
  variant: string;
  version: number;
  m: number;
  t: number;
  p: number;
  salt: string;
  hash: string;
}

/** Parses a PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (parameters in any order). */
function parsePhc(phc: string): Argon2Hash | undefined {
  // eslint-disable-next-line security/detect-unsafe-regex -- each repetition starts with ',': linear (and the input is our own hash)
  const match = /^\$(argon2(?:id|i|d))\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!match) return undefined;
  const [, variant, version, list, salt, hash] = match;
  const params = Object.fromEntries(list.split(',').map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]));
  if (![params.m, params.t, params.p].every(Number.isInteger)) return undefined;
  return { variant, version: Number(version), m: params.m, t: params.t, p: params.p, salt, hash };
}

const storedHash = async (user: TestUser) =>
  (await query<{ password_hash: string }>(database.url, 'SELECT password_hash FROM accounts WHERE id = $1', [user.id]))[0].password_hash;

async function logIn(server: RunningServer, user: TestUser, password = user.password): Promise<boolean> {
  const browser = browserFor(server);
  const login = await openLoginPage(browser, server.issuer, client.client_id);
  const { action, fields } = parseForm(login.html, /\/login$/);
  const step = await browser.follow(action, { method: 'POST', headers: { origin: browser.origin }, form: { ...fields, email: user.email, password } });
  if (step.location?.startsWith(`${REDIRECT_URI}?`) && new URL(step.location).searchParams.get('code')) return true;
  if (step.response.status === 401) return false;
  throw new Error(`unexpected answer to a login: ${step.response.status} ${step.location ?? step.url}`);
}

test.before(async () => {
  database = await createTestDatabase();
  serverA = await startServer({ database });
  secretOfA = serverA.env.LATCHKEY_SECRET; // B needs it: A's signing keys in the database are encrypted with it
  client = await createWebClient(serverA, { firstParty: true });
  users.upgraded = await createUser(serverA);
  users.failed = await createUser(serverA);
  users.reset = await createUser(serverA);
  await serverA.admin(['users', 'set-password', users.reset.email, '--password-stdin'], { stdin: (users.reset.password = `Reset-${randomBytes(9).toString('base64url')}`) });
  for (const [name, user] of Object.entries(users)) hashesAtA[name] = await storedHash(user);
  if (!(await logIn(serverA, users.upgraded))) throw new Error('server A refused a correct password');
});
test.after.always(async () => {
  await serverA?.stop();
  await serverB?.stop();
  await database?.drop();
});

test.serial('C37 stored hashes are argon2id v19 with m >= 19456 KiB, t >= 2, p >= 1 and a random salt', async (t) => {
  const parsed = Object.entries(hashesAtA).map(([name, phc]) => ({ name, phc, hash: parsePhc(phc) }));
  for (const { name, phc, hash } of parsed) {
    t.truthy(hash, `${name}: not a PHC argon2 string: ${phc.slice(0, 40)}`);
    t.is(hash?.variant, 'argon2id', name);
    t.is(hash?.version, 19, name);
    t.true(hash!.m >= 19456, `${name}: m=${hash?.m}`);
    t.true(hash!.t >= 2, `${name}: t=${hash?.t}`);
    t.true(hash!.p >= 1, `${name}: p=${hash?.p}`);
    t.true(Buffer.from(hash!.salt, 'base64').length >= 16, `${name}: salt of at least 128 bits`);
  }
  t.is(new Set(parsed.map((p) => p.hash?.salt)).size, parsed.length, 'every hash has its own salt');
  // Neither the hash column nor anything else in the row holds the password itself.
  const rows = await query(database.url, 'SELECT * FROM accounts');
  for (const user of Object.values(users)) t.false(JSON.stringify(rows).includes(user.password));
});

test.serial('C37 a sign-in on a server with a higher cost upgrades the hash; a failed sign-in does not', async (t) => {
  // Restart: stop A, start B on the same database with a higher cost.
  await serverA!.stop();
  serverA = undefined;
  serverB = await startServer({
    database,
    env: { LATCHKEY_SECRET: secretOfA, ARGON2_MEMORY_KIB: String(RAISED.memoryCost), ARGON2_TIME_COST: String(RAISED.timeCost) },
  });

  // A wrong password: refused, and the stored hash is left alone.
  t.false(await logIn(serverB, users.failed, `${users.failed.password}-wrong`));
  t.is(await storedHash(users.failed), hashesAtA.failed, 'a failed sign-in must not rewrite the hash');

  // The right password (hashed at the old cost, and after a set-password): accepted and upgraded.
  for (const name of ['upgraded', 'reset'] as const) {
    t.true(await logIn(serverB, users[name]), `${name}: the old hash still verifies`);
    const after = await storedHash(users[name]);
    t.not(after, hashesAtA[name], `${name}: the hash was rewritten`);
    const hash = parsePhc(after);
    t.is(hash?.variant, 'argon2id', name);
    t.is(hash?.m, RAISED.memoryCost, `${name}: m after upgrade`);
    t.is(hash?.t, RAISED.timeCost, `${name}: t after upgrade`);
    t.true(hash!.p >= 1);
    // The upgraded hash is a working one, and is not rewritten again at the same cost.
    t.true(await logIn(serverB, users[name]), `${name}: signs in with the upgraded hash`);
    t.is(await storedHash(users[name]), after, `${name}: no rehash when the cost is unchanged`);
  }
});
