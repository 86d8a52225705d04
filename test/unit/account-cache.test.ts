// The token path's account cache (server/accounts/account-cache.ts): served
// while the version Redis holds is the one it was read under, reread when it
// moved, and kept through a Postgres outage only while Redis still confirms it.
import test from 'ava';
import { createAccountCache, type AccountVersions } from '../../server/accounts/account-cache.ts';
import type { Account } from '../../server/accounts/types.ts';
import { StoreUnavailableError } from '../../server/errors.ts';

const account = (id: string, disabled = false): Account => ({
  id, email: `${id}@example.com`, emailVerified: true, name: null, disabled, requireMfa: false,
  sessionsRevokedAt: null, createdAt: new Date(0), updatedAt: new Date(0),
});

function fixture(ttlMs = 60_000, maxEntries?: number) {
  const rows = new Map<string, Account>();
  const versions = new Map<string, string>();
  let clock = 0;
  let down: Error | undefined;
  let reads = 0;
  const versionStore: AccountVersions = {
    read: async (id) => versions.get(id) ?? null,
    bump: async (id) => { versions.set(id, String(Number(versions.get(id) ?? 0) + 1)); },
  };
  const cache = createAccountCache({
    findById: async (id) => {
      reads++;
      if (down) throw down;
      return rows.get(id);
    },
  }, versionStore, { ttlMs, maxEntries, now: () => clock });
  return {
    cache, rows, versions: versionStore,
    get reads() { return reads; },
    tick: (ms: number) => { clock += ms; },
    stopPostgres: (error: Error = new StoreUnavailableError('database', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))) => { down = error; },
    startPostgres: () => { down = undefined; },
  };
}

test('an account read once is served from the cache while its version is unchanged', async (t) => {
  const f = fixture();
  f.rows.set('a', account('a'));
  t.is((await f.cache.findById('a'))?.id, 'a');
  t.is((await f.cache.findById('a'))?.id, 'a');
  t.is(f.reads, 1);
});

test('a change announced by any process (its version bumped) is seen on the next use', async (t) => {
  const f = fixture();
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.rows.set('a', account('a', true));
  await f.versions.bump('a');
  t.true((await f.cache.findById('a'))?.disabled);
  t.is(f.reads, 2);
});

test('an entry older than the TTL is read again', async (t) => {
  const f = fixture(1_000);
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.tick(1_001);
  await f.cache.findById('a');
  t.is(f.reads, 2);
});

test('Postgres down: an entry Redis still confirms keeps working, past its TTL too', async (t) => {
  const f = fixture(1_000);
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.tick(5_000);
  f.stopPostgres();
  t.is((await f.cache.findById('a'))?.id, 'a');
});

test('Postgres down: a changed account is never answered from the cache, nor an unknown one', async (t) => {
  const f = fixture();
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.stopPostgres();
  await f.versions.bump('a');
  await t.throwsAsync(f.cache.findById('a'), { instanceOf: StoreUnavailableError });
  await t.throwsAsync(f.cache.findById('b'), { instanceOf: StoreUnavailableError });
});

test('an error other than unavailability is never hidden by the cache', async (t) => {
  const f = fixture(1_000);
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.tick(5_000);
  f.stopPostgres(new Error('column "x" does not exist'));
  await t.throwsAsync(f.cache.findById('a'), { message: /column/ });
});

test('a deleted account is not kept', async (t) => {
  const f = fixture();
  f.rows.set('a', account('a'));
  await f.cache.findById('a');
  f.rows.delete('a');
  await f.versions.bump('a');
  t.is(await f.cache.findById('a'), undefined);
  f.stopPostgres();
  await t.throwsAsync(f.cache.findById('a'));
});

test('the cache is bounded: the least recently used account goes first', async (t) => {
  const f = fixture(60_000, 2);
  for (const id of ['a', 'b', 'c']) f.rows.set(id, account(id));
  await f.cache.findById('a');
  await f.cache.findById('b');
  await f.cache.findById('a'); // a is now the most recent
  await f.cache.findById('c'); // evicts b
  const before = f.reads;
  await f.cache.findById('a');
  t.is(f.reads, before, 'a stayed');
  await f.cache.findById('b');
  t.is(f.reads, before + 1, 'b was evicted');
});
