import test from 'ava';
import { LookupCache } from '../../server/cache/lookup-cache.ts';

test('loads once per key until cleared, caching misses too', async (t) => {
  const loads: string[] = [];
  const cache = new LookupCache<string>(async (key) => {
    loads.push(key);
    return key === 'missing' ? undefined : `value:${key}`;
  });
  t.is(await cache.get('a'), 'value:a');
  t.is(await cache.get('a'), 'value:a');
  t.is(await cache.get('missing'), undefined);
  t.is(await cache.get('missing'), undefined);
  t.deepEqual(loads, ['a', 'missing']);
  cache.clear();
  await cache.get('a');
  t.deepEqual(loads, ['a', 'missing', 'a']);
});

test('a failed load is retried on the next get', async (t) => {
  let calls = 0;
  const cache = new LookupCache<string>(async () => {
    calls += 1;
    if (calls === 1) throw new Error('database down');
    return 'ok';
  });
  await t.throwsAsync(cache.get('k'), { message: 'database down' });
  t.is(await cache.get('k'), 'ok');
});

test('the map is bounded', async (t) => {
  let loads = 0;
  const cache = new LookupCache<number>(async () => ++loads, 2);
  await cache.get('a');
  await cache.get('b');
  await cache.get('c'); // evicts everything first
  await cache.get('a');
  t.is(loads, 4);
});
