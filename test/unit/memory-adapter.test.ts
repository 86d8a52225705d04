// What only the in-process store has: sweeping, a size bound, and copies in and out.
// (Behaviour shared with Redis is in test/integration/adapters.test.ts.)
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryAdapterFactory, MemoryStore } from '../../server/adapters/memory.ts';

test('a write sweeps out expired records and their indexes without reading them', async (t) => {
  const store = new MemoryStore({ sweepIntervalMs: 0 });
  const adapters = createMemoryAdapterFactory(store);
  await adapters('Session').upsert('s1', { uid: 'u1' }, 0.05);
  await adapters('AccessToken').upsert('at1', { grantId: 'g1' }, 0.05);
  t.deepEqual(store.counts, { records: 2, pointers: 1, grants: 1 });
  await sleep(80);
  await adapters('AccessToken').upsert('at2', {}, 60);
  t.deepEqual(store.counts, { records: 1, pointers: 0, grants: 0 });
});

test('sweeps run at most once per interval', async (t) => {
  const store = new MemoryStore({ sweepIntervalMs: 60_000 });
  const adapters = createMemoryAdapterFactory(store);
  await adapters('AccessToken').upsert('at1', {}, 0.01);
  await sleep(30);
  await adapters('AccessToken').upsert('at2', {}, 60);
  t.is(store.counts.records, 2, 'not swept yet');
  t.is(await adapters('AccessToken').find('at1'), undefined, 'but expired on read');
  t.is(store.counts.records, 1);
});

test('past maxEntries the oldest records go, with their index entries', async (t) => {
  const store = new MemoryStore({ maxEntries: 3 });
  const adapters = createMemoryAdapterFactory(store);
  await adapters('Session').upsert('s1', { uid: 'u1' }, 60);
  await adapters('AccessToken').upsert('at1', { grantId: 'g1' }, 60);
  await adapters('AccessToken').upsert('at2', { grantId: 'g2' }, 60);
  await adapters('Session').upsert('s1', { uid: 'u1' }, 60); // rewriting makes it the newest
  await adapters('AccessToken').upsert('at3', { grantId: 'g2' }, 60);
  t.is(await adapters('AccessToken').find('at1'), undefined);
  t.truthy(await adapters('Session').findByUid('u1'));
  t.deepEqual(store.counts, { records: 3, pointers: 1, grants: 1 });
});

test('payloads are copied: callers cannot change what is stored', async (t) => {
  const adapter = createMemoryAdapterFactory()('AccessToken');
  const payload = { scope: 'openid' };
  await adapter.upsert('at', payload, 60);
  payload.scope = 'admin';
  const found = await adapter.find('at');
  found!.scope = 'admin';
  t.is((await adapter.find('at'))?.scope, 'openid');
});

test('adapters of one factory share a store; separate factories do not', async (t) => {
  const factory = createMemoryAdapterFactory();
  await factory('Grant').upsert('g', { accountId: 'a' }, 60);
  t.truthy(await factory('Grant').find('g'));
  t.is(await createMemoryAdapterFactory()('Grant').find('g'), undefined);
});
