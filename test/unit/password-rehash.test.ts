// A sign-in that finds a hash below the configured cost rehashes it; when
// that fails the sign-in still succeeds and the failure is one pino warning
// naming the account, never the password (AccountService.authenticate).
import test from 'ava';
import type pg from 'pg';
import { createAccountService } from '../../server/accounts/account-service.ts';
import { createPasswordHasher } from '../../server/accounts/password-hashing.ts';
import type { Config } from '../../server/config/index.ts';
import type { Database, Queryable } from '../../server/db/database.ts';

const PASSWORD = 'correct horse battery staple';
const ACCOUNT_ID = '7b0c3c1e-5a43-4a8e-9d4b-0d4d6a1f2b3c';
const weak = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const config = { argon2: { ...weak, timeCost: 3 }, productName: 'Acme ID' } as Config;

/** One account row; UPDATEs fail as they would with the database gone. */
function fakeDatabase(passwordHash: string): Database & { statements: string[] } {
  const statements: string[] = [];
  const row = {
    id: ACCOUNT_ID, email: 'ann@example.com', email_verified: true, name: 'Ann', password_hash: passwordHash, disabled: false,
    require_mfa: false, sessions_revoked_at: null, created_at: new Date(), updated_at: new Date(),
  };
  const query = async (sql: string) => {
    statements.push(sql);
    if (sql.startsWith('UPDATE accounts SET password_hash')) throw new Error('connection terminated unexpectedly');
    return { rows: sql.startsWith('SELECT') ? [row] : [], rowCount: 1 } as unknown as pg.QueryResult;
  };
  return {
    statements,
    query: query as Queryable['query'],
    transaction: (fn) => fn({ query: query as Queryable['query'] }),
    close: async () => {},
  };
}

test('a failed rehash is logged with the account id, never the password, and the sign-in succeeds', async (t) => {
  const db = fakeDatabase(await createPasswordHasher(weak).hashPassword(PASSWORD));
  const warnings: Array<[Record<string, unknown>, string]> = [];
  const logger = { warn: (fields: Record<string, unknown>, message: string) => { warnings.push([fields, message]); } };
  const accounts = createAccountService(db, config, logger as never);

  const account = await accounts.authenticate('ann@example.com', PASSWORD);
  t.is(account?.id, ACCOUNT_ID, 'the sign-in is not blocked');
  t.true(db.statements.some((sql) => sql.startsWith('UPDATE accounts SET password_hash')), 'the rehash was tried');
  t.is(warnings.length, 1);
  const [fields, message] = warnings[0];
  t.is(message, 'password rehash failed; the old hash stays');
  t.is(fields.account_id, ACCOUNT_ID);
  t.regex(String((fields.err as Error).message), /connection terminated/);
  t.false(JSON.stringify(warnings).includes(PASSWORD), 'the password is not in the log');
});

test('a hash at the configured cost is not rehashed, and nothing is logged', async (t) => {
  const db = fakeDatabase(await createPasswordHasher(config.argon2).hashPassword(PASSWORD));
  const warnings: unknown[] = [];
  const accounts = createAccountService(db, config, { warn: (...args: unknown[]) => { warnings.push(args); } } as never);
  t.truthy(await accounts.authenticate('ann@example.com', PASSWORD));
  t.false(db.statements.some((sql) => sql.startsWith('UPDATE')));
  t.deepEqual(warnings, []);
});
