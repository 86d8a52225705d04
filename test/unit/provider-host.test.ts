// ProviderHost refreshes: a load that misses its deadline is abandoned, and
// when it finally finishes it must not swap its (older) keys and clients in
// over those of a later refresh.
import test from 'ava';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { pino } from 'pino';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import { loadConfig } from '../../server/config/index.ts';
import { ProviderHost } from '../../server/oidc/provider-host.ts';

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
