// needs: postgres
// Work done once per request (item 8): the password POST and the
// second-factor page, run through the real interaction router and stores
// against Postgres with a database that counts its queries. oidc-provider is
// a stub: only the interaction's details and result come from it.
import { SecurityEvents } from '../../server/events/security-event.ts';
import test, { type ExecutionContext } from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { pino } from 'pino';
import { generate } from 'otplib';
import { createAccountService } from '../../server/accounts/account-service.ts';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import { loadConfig } from '../../server/config/index.ts';
import { deriveKey } from '../../server/crypto/secrets.ts';
import type { Database, Queryable } from '../../server/db/database.ts';
import { connectPostgres } from '../../server/db/database.ts';
import { errorPages } from '../../server/http/error-pages.ts';
import { csrfToken } from '../../server/http/csrf.ts';
import { pageContext } from '../../server/http/page-context.ts';
import type { InteractionDependencies } from '../../server/interactions/context.ts';
import { interactionRoutes } from '../../server/interactions/routes.ts';
import { createMfaServices } from '../../server/mfa/index.ts';
import { createSignInProgressStore } from '../../server/progress/sign-in-progress.ts';
import { createSignInThrottle } from '../../server/throttle/sign-in-throttle.ts';
import { createTestDatabase, uniqueRedisPrefix, type TestDatabase } from '../helpers/services.ts';

const PASSWORD = 'correct horse battery staple';
const master = Buffer.alloc(32, 7);
const keyring = { encryption: deriveKey(master, 'encryption'), secretHash: deriveKey(master, 'client-secret-hash'), throttle: deriveKey(master, 'throttle') };
const config = loadConfig({ NODE_ENV: 'test', ISSUER: 'http://localhost:3000', ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' });
const csrfKey = Buffer.alloc(32, 9);
const logger = pino({ level: 'silent' });

/** The statements one request ran. */
let statements: string[] = [];
function counting(db: Queryable): Queryable {
  return { query: (sql: string, params?: unknown[]) => { statements.push(sql.replace(/\s+/g, ' ').trim()); return db.query(sql, params); } } as Queryable;
}
function countingDatabase(db: Database): Database {
  return { ...counting(db), transaction: (fn) => db.transaction((tx) => fn(counting(tx))), close: () => db.close() } as Database;
}

let database: TestDatabase;
let raw: Database;
let url: string;
let deps: InteractionDependencies;
let uidCount = 0;
let server: import('node:http').Server;

test.before(async () => {
  database = await createTestDatabase();
  raw = connectPostgres(database.url);
  const db = countingDatabase(raw);
  const adapterFactory = createAdapterFactory({ keyPrefix: uniqueRedisPrefix() });
  const accounts = createAccountService(db, config, logger);
  await accounts.warmUp();
  const details = new Map<string, object>();
  deps = {
    config,
    logger,
    // Only what the sign-in pages ask oidc-provider: the interaction in the cookie, and where to go when it is answered.
    provider: () => ({
      interactionDetails: async (req: { headers: Record<string, string | undefined> }) => details.get(req.headers['x-uid'] ?? '') ?? {},
      interactionResult: async () => '/auth/resumed',
      Client: { find: async () => undefined },
    }) as never,
    passwords: accounts,
    accounts,
    mfa: createMfaServices({ db, keyring, config, adapterFactory }),
    throttle: createSignInThrottle({ keyPrefix: uniqueRedisPrefix(), emailHashKey: keyring.throttle, logger }),
    progress: createSignInProgressStore(adapterFactory('SignInProgress'), keyring.encryption, 900),
    csrfKey,
    events: new SecurityEvents(),
  };
  (deps as unknown as { details: Map<string, object> }).details = details;
  const app = new Koa();
  app.keys = ['a-cookie-key-of-at-least-thirty-two-characters'];
  app.use(errorPages((ctx) => pageContext(config, ctx)));
  app.use(interactionRoutes(deps));
  const handle = app.callback();
  server = createServer((req, res) => { void handle(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(async () => {
  server?.close();
  await raw?.close();
  await database?.drop();
});

/** A fresh login interaction (oidc-provider's view of it). */
function newInteraction(): string {
  const uid = `uid-${++uidCount}`;
  (deps as unknown as { details: Map<string, object> }).details.set(uid, {
    uid, params: { client_id: 'app' }, prompt: { name: 'login', reasons: ['no_session'], details: {} }, iat: Math.floor(Date.now() / 1000),
  });
  return uid;
}

/** POSTs the password form; the statements the request ran. */
async function postPassword(uid: string, email: string, password: string, options: { cookie?: string; ip?: string } = {}) {
  statements = [];
  const response = await fetch(`${url}/interaction/${uid}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'x-uid': uid, origin: config.issuer, 'content-type': 'application/x-www-form-urlencoded', ...(options.cookie && { cookie: options.cookie }),
    },
    body: new URLSearchParams({ csrf: csrfToken(csrfKey, uid), email, password }).toString(),
  });
  await response.arrayBuffer();
  return { status: response.status, location: response.headers.get('location'), statements: [...statements] };
}

/** Lookups of an account (by email or id); the device UPDATE joins accounts but looks nothing up. */
const accountQueries = (sqls: string[]) => sqls.filter((sql) => /^SELECT\b.*\bFROM accounts\b/.test(sql));

async function newUser(t: ExecutionContext, factors: { totp?: boolean } = {}) {
  const email = `user${++uidCount}@example.com`;
  const account = await createAccountService(raw, config, logger).create({ email, password: PASSWORD });
  let secret: string | undefined;
  if (factors.totp) {
    const setup = await deps.mfa.totp.setup(email);
    secret = setup.secret;
    t.truthy(await deps.mfa.totp.confirm(account.id, 'Phone', secret, await generate({ secret })));
  }
  return { account, email, secret };
}

test.serial('a right password for an account without factors: one query (the account with its factors)', async (t) => {
  const { email } = await newUser(t);
  const result = await postPassword(newInteraction(), email, PASSWORD);
  t.is(result.status, 303);
  t.is(result.location, '/auth/resumed');
  t.is(result.statements.length, 1, result.statements.join('\n'));
  t.is(accountQueries(result.statements).length, 1);
});

test.serial('a right password for an account with a factor: one query, then the second-factor page loads it once', async (t) => {
  const { email } = await newUser(t, { totp: true });
  const uid = newInteraction();
  const result = await postPassword(uid, email, PASSWORD);
  t.is(result.status, 303);
  t.is(result.location, `/interaction/${uid}`);
  t.is(result.statements.length, 1, result.statements.join('\n'));

  statements = [];
  const page = await fetch(`${url}/interaction/${uid}`, { headers: { 'x-uid': uid } });
  t.is(page.status, 200);
  t.regex(await page.text(), /name="code"/, 'the second-factor page');
  // The account with its factor summary (TOTP, WebAuthn credentials for the options): once.
  t.is(statements.length, 1, statements.join('\n'));
});

test.serial('a wrong password and an unknown email: one query each (the dummy argon2 verify stays)', async (t) => {
  const { email } = await newUser(t);
  const wrong = await postPassword(newInteraction(), email, 'not the password at all');
  t.is(wrong.status, 401);
  t.is(wrong.statements.length, 1, wrong.statements.join('\n'));
  const unknown = await postPassword(newInteraction(), 'nobody-at-all@example.com', PASSWORD);
  t.is(unknown.status, 401);
  t.is(unknown.statements.length, 1, unknown.statements.join('\n'));
});

test.serial('a browser with a remembered device: the device check rides on the account query; using the device is one more', async (t) => {
  const { account, email } = await newUser(t, { totp: true });
  const { token } = await deps.mfa.trustedDevices.remember(account.id, 'Firefox on Linux', 3600);
  const result = await postPassword(newInteraction(), email, PASSWORD, { cookie: `latchkey_device=${token}` });
  t.is(result.status, 303);
  t.is(result.location, '/auth/resumed', 'the second factor is skipped on the remembered device');
  t.is(accountQueries(result.statements).length, 1, result.statements.join('\n'));
  t.is(result.statements.length, 2, result.statements.join('\n'));
  t.regex(result.statements[1], /^UPDATE trusted_devices/);
});

test.serial('a throttled attempt runs no query at all, remembered-device cookie or not', async (t) => {
  const { account, email } = await newUser(t);
  const { token } = await deps.mfa.trustedDevices.remember(account.id, 'Firefox on Linux', 3600);
  let last = { status: 0, statements: [] as string[] };
  for (let i = 0; i < 8 && last.status !== 429; i++) last = await postPassword(newInteraction(), email, 'wrong password number one');
  t.is(last.status, 429, 'the account+IP limit blocks');
  for (const cookie of [undefined, `latchkey_device=${token}`]) {
    const throttled = await postPassword(newInteraction(), email, PASSWORD, { cookie });
    t.is(throttled.status, 429);
    t.deepEqual(throttled.statements, [], `no query before the throttle decides (${cookie ? 'device cookie' : 'no cookie'})`);
  }
});
