// ProviderHost refreshes: a load that misses its deadline is abandoned, and
// when it finally finishes it must not swap its (older) keys and clients in
// over those of a later refresh.
import test from 'ava';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { pino } from 'pino';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import { loadConfig } from '../../server/config/index.ts';
import { ProviderHost } from '../../server/oidc/provider-host.ts';
import { createApiCache } from '../../server/apis/api-cache.ts';
import type { Api } from '../../server/apis/types.ts';

async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function host(loadJwks: () => Promise<JWK[]>) {
  return new ProviderHost({
    config: loadConfig({}),
    cookieKeys: ['test-cookie-key'],
    clients: { findById: async () => undefined },
    apis: { findByIdentifier: async () => undefined },
    accounts: { findById: async () => undefined },
    adapterFactory: createAdapterFactory({ keyPrefix: 'test:' }),
    hasFactors: async () => false,
    secretHashKey: Buffer.alloc(32, 1),
    logger: pino({ level: 'silent' }),
    loadJwks,
    loadClients: async () => [],
    refreshDeadlineMs: 200,
  });
}

test('a load abandoned at its deadline never replaces what a later refresh loaded', async (t) => {
  const [older, newer] = await Promise.all([signingKey('older'), signingKey('newer')]);
  let finishSlowLoad!: () => void;
  const slowLoad = new Promise<JWK[]>((resolve) => { finishSlowLoad = () => resolve([older]); });
  const loads = [() => slowLoad, async () => [newer], async () => [newer]];
  const h = host(() => loads.shift()!());

  // The first load hangs past its deadline: the refresh fails...
  await t.throwsAsync(h.refresh(), { message: /took longer than 0.2 s/ });
  // ...and the next one loads the newer key and swaps its Provider in.
  t.true(await h.refresh());
  const current = h.provider;

  // Now the abandoned load finishes, with the older key.
  finishSlowLoad();
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(h.provider === current, 'the Provider of the later refresh stays');
  t.false(await h.refresh(), 'and its keys are still the current ones: nothing to rebuild');
  t.true(h.provider === current);
});

test('APIs are a snapshot swapped in whole by a refresh: known ones never touch the database, a failed load keeps the previous ones', async (t) => {
  const key = await signingKey('k');
  const api = (identifier: string): Api => ({ id: identifier, identifier, name: null, scopes: ['read'], accessTokenTtl: 60, createdAt: new Date(0) });
  let queries = 0;
  const apis = createApiCache({ query: async () => { queries++; return { rows: [] } as never; } });
  const loads: (() => Promise<Api[]>)[] = [
    async () => [api('https://a.example')],
    async () => { throw new Error('Postgres down'); },
    async () => [api('https://b.example')],
  ];
  const h = new ProviderHost({
    config: loadConfig({}),
    cookieKeys: ['test-cookie-key'],
    clients: { findById: async () => undefined },
    apis,
    accounts: { findById: async () => undefined },
    adapterFactory: createAdapterFactory({ keyPrefix: 'test:' }),
    hasFactors: async () => false,
    secretHashKey: Buffer.alloc(32, 1),
    logger: pino({ level: 'silent' }),
    loadJwks: async () => [key],
    loadClients: async () => [],
    loadApis: () => loads.shift()!(),
  });
  await h.refresh();
  t.is((await apis.findByIdentifier('https://a.example'))?.identifier, 'https://a.example');
  t.is(queries, 0, 'a known API is served from the snapshot');
  await t.throwsAsync(h.refresh(), { message: /Postgres down/ });
  t.is((await apis.findByIdentifier('https://a.example'))?.identifier, 'https://a.example', 'the failed load kept the snapshot');
  t.is(queries, 0);
  await h.refresh();
  t.is((await apis.findByIdentifier('https://b.example'))?.identifier, 'https://b.example');
  t.is(await apis.findByIdentifier('https://a.example'), undefined, 'an API deleted since is gone');
  t.is(queries, 1, 'an identifier the snapshot lacks is looked up (a new API works at once)');
});
