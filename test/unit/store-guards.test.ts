// What the stores' errors become for oidc-provider (server/oidc/store-guards.ts):
// a replay is invalid_grant, a store that is down or hung a 503
// temporarily_unavailable it shows the client, anything else passes unchanged.
import test from 'ava';
import { errors } from 'oidc-provider';
import { AlreadyConsumedError, type Adapter } from '../../server/adapters/index.ts';
import { guardStore } from '../../server/oidc/store-guards.ts';

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
