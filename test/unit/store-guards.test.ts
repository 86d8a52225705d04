// What the stores' errors become for oidc-provider (server/oidc/store-guards.ts):
// a replay is invalid_grant, a store that is down or hung a 503
// temporarily_unavailable it shows the client, anything else passes unchanged.
import test from 'ava';
import { errors } from 'oidc-provider';
import { AlreadyConsumedError, type Adapter } from '../../server/adapters/index.ts';
import { StoreUnavailableError } from '../../server/errors.ts';
import { guardAccounts, guardStore } from '../../server/oidc/store-guards.ts';

/** An adapter whose every method throws `error`. */
function failing(error: Error): Adapter {
  const fail = () => Promise.reject(error);
  return { upsert: fail, find: fail, findByUid: fail, findByUserCode: fail, consume: fail, insertIfAbsent: fail, destroy: fail, revokeByGrantId: fail };
}

const calls = (adapter: Adapter) => ({
  upsert: () => adapter.upsert('id', {}, 60),
  find: () => adapter.find('id'),
  findByUid: () => adapter.findByUid('uid'),
  findByUserCode: () => adapter.findByUserCode('code'),
  consume: () => adapter.consume('id'),
  insertIfAbsent: () => adapter.insertIfAbsent('id', {}, 60),
  destroy: () => adapter.destroy('id'),
  revokeByGrantId: () => adapter.revokeByGrantId('grant'),
});

test('a store that is down or hung is a 503 temporarily_unavailable, from every method', async (t) => {
  for (const message of ['Command timed out', 'Stream isn\'t writeable and enableOfflineQueue options is false', 'Connection is closed.']) {
    for (const [name, call] of Object.entries(calls(guardStore(failing(new Error(message)))))) {
      const error = await t.throwsAsync(call(), { instanceOf: errors.TemporarilyUnavailable }, `${name}: ${message}`);
      t.is((error as unknown as { statusCode: number }).statusCode, 503);
      t.true((error as unknown as { expose: boolean }).expose, 'oidc-provider shows it (not server_error)');
      t.is((error as Error).message, 'temporarily_unavailable');
    }
  }
});

test('a replayed consume is invalid_grant; any other error passes unchanged', async (t) => {
  await t.throwsAsync(guardStore(failing(new AlreadyConsumedError('used'))).consume('id'), { instanceOf: errors.InvalidGrant });
  const other = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
  t.is(await t.throwsAsync(guardStore(failing(other)).find('id')), other);
});

test('the token path\'s account lookup: Redis or Postgres unavailable is the same exposed 503; other errors pass', async (t) => {
  for (const cause of [new Error('Command timed out'), new StoreUnavailableError('database', new Error('connect ECONNREFUSED'))]) {
    const accounts = guardAccounts({ findById: () => Promise.reject(cause) });
    const error = await t.throwsAsync(accounts.findById('acc-1'));
    t.true(error instanceof errors.TemporarilyUnavailable, cause.message);
    t.like(error, { status: 503, statusCode: 503, expose: true, error: 'temporarily_unavailable' });
  }
  const bug = new TypeError('x is undefined');
  t.is(await t.throwsAsync(guardAccounts({ findById: () => Promise.reject(bug) }).findById('acc-1')), bug);
  t.is(await guardAccounts({ findById: async () => undefined }).findById('acc-1'), undefined);
});
