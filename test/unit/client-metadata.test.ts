// Latchkey's fields in oidc-provider's client metadata (extraClientMetadata):
// a client record survives the trip into a Provider's client and back out
// through latchkeyFieldsOf, and the validator, wired into the real
// configuration, refuses malformed fields and plaintext secrets.
import test from 'ava';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type ClientMetadata } from 'oidc-provider';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import type { Client } from '../../server/clients/types.ts';
import { loadConfig } from '../../server/config/index.ts';
import { hashSecret } from '../../server/crypto/secrets.ts';
import { ACCOUNT_CLIENT_ID, accountClientMetadata, clientSettingsOf } from '../../server/oidc/account-client.ts';
import { latchkeyFieldsOf, toClientMetadata, validateLatchkeyMetadata } from '../../server/oidc/client-metadata.ts';
import { buildConfiguration } from '../../server/oidc/configuration.ts';
import { tokenPolicies } from '../../server/oidc/token-policies.ts';

const HASH_KEY = Buffer.alloc(32, 3);
const SECRET = 'the-current-secret';
const PREVIOUS = 'the-previous-secret';
const EXPIRES = new Date('2030-01-01T00:00:00.500Z');

const record: Client = {
  clientId: 'web',
  name: 'Web',
  grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
  redirectUris: ['https://app.example.com/cb'],
  postLogoutRedirectUris: [],
  tokenEndpointAuthMethod: 'client_secret_basic',
  secretHash: hashSecret(HASH_KEY, SECRET),
  previousSecretHash: hashSecret(HASH_KEY, PREVIOUS),
  previousSecretExpiresAt: EXPIRES,
  jwks: null,
  firstParty: true,
  requireMfa: true,
  trustedDevices: false,
  idTokenAlg: 'ES256',
  apis: [{ apiIdentifier: 'https://orders.example', scopes: ['orders:read'] }, { apiIdentifier: 'https://billing.example', scopes: [] }],
  createdAt: new Date(),
};

let jwks: JWK[];

/** A Provider with Latchkey's real configuration and these static clients. */
function provider(clients: ClientMetadata[]): Provider {
  const config = loadConfig({});
  const accounts = { findById: async () => undefined };
  return new Provider(config.issuer, buildConfiguration({
    config,
    cookieKeys: ['k'],
    clients: { findById: async () => undefined },
    apis: { findByIdentifier: async () => undefined },
    accounts,
    adapterFactory: createAdapterFactory({ keyPrefix: 'test:' }),
    hasFactors: async () => false,
  }, jwks, clients, tokenPolicies(accounts)));
}

test.before(async () => {
  jwks = await Promise.all((['ES256', 'RS256'] as const).map(async (alg) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    return { ...(await exportJWK(privateKey)), kid: alg, alg, use: 'sig' };
  }));
});

test('a client record comes back out of the Provider\'s client unchanged', async (t) => {
  const client = (await provider([toClientMetadata(record)]).Client.find('web'))!;
  t.deepEqual(latchkeyFieldsOf(client), {
    apis: record.apis,
    firstParty: true,
    requireMfa: true,
    trustedDevices: false,
    secretHash: record.secretHash,
    previousSecretHash: record.previousSecretHash,
    previousSecretExpiresAt: Math.floor(EXPIRES.getTime() / 1000),
  });
  t.deepEqual(clientSettingsOf(client), { name: 'Web', firstParty: true, requireMfa: true, trustedDevices: false });
});

test('a public client without secrets, and the built-in account client, are valid', async (t) => {
  const publicClient = { ...record, clientId: 'spa', tokenEndpointAuthMethod: 'none' as const, grantTypes: ['authorization_code' as const], secretHash: null, previousSecretHash: null, previousSecretExpiresAt: null };
  const built = provider([toClientMetadata(publicClient), accountClientMetadata('http://localhost:3000')]);
  const spa = latchkeyFieldsOf((await built.Client.find('spa'))!);
  t.is(spa.secretHash, null);
  t.is(spa.previousSecretHash, null);
  t.is(spa.previousSecretExpiresAt, null);
  const account = (await built.Client.find(ACCOUNT_CLIENT_ID))!;
  t.like(latchkeyFieldsOf(account), { apis: [], firstParty: true, requireMfa: false, trustedDevices: true });
  t.like(clientSettingsOf(account), { firstParty: true, requireMfa: false, trustedDevices: true });
});

test('the validator refuses malformed Latchkey fields, naming the property', async (t) => {
  const good = toClientMetadata(record);
  const without = (key: string) => Object.fromEntries(Object.entries(good).filter(([name]) => name !== key)) as ClientMetadata;
  const cases: [string, ClientMetadata, RegExp][] = [
    ['APIs missing', without('latchkey_apis'), /^latchkey_apis must be/],
    ['APIs not a list', { ...good, latchkey_apis: 'https://orders.example' }, /^latchkey_apis must be/],
    ['a grant without scopes', { ...good, latchkey_apis: [{ apiIdentifier: 'https://orders.example' }] }, /^latchkey_apis must be/],
    ['a scope not a string', { ...good, latchkey_apis: [{ apiIdentifier: 'https://orders.example', scopes: [1] }] }, /^latchkey_apis must be/],
    ['an empty API identifier', { ...good, latchkey_apis: [{ apiIdentifier: '', scopes: [] }] }, /^latchkey_apis must be/],
    ['a grant with an unknown member', { ...good, latchkey_apis: [{ apiIdentifier: 'https://orders.example', scopes: [], ttl: 5 }] }, /^latchkey_apis must be/],
    ['an API listed twice', { ...good, latchkey_apis: [{ apiIdentifier: 'https://a.example', scopes: [] }, { apiIdentifier: 'https://a.example', scopes: ['x'] }] }, /^latchkey_apis must be a list naming each API once/],
    ['first party missing', without('latchkey_first_party'), /^latchkey_first_party must be a boolean/],
    ['first party a string', { ...good, latchkey_first_party: 'true' }, /^latchkey_first_party must be a boolean/],
    ['require MFA a number', { ...good, latchkey_require_mfa: 1 }, /^latchkey_require_mfa must be a boolean/],
    ['trusted devices null', { ...good, latchkey_trusted_devices: null }, /^latchkey_trusted_devices must be a boolean/],
    ['a plaintext previous secret', { ...good, latchkey_previous_secret_hash: PREVIOUS }, /^latchkey_previous_secret_hash must be a secret hash/],
    ['a plaintext client_secret', { ...good, client_secret: SECRET }, /^client_secret must be a secret hash/],
    ['a previous hash without its expiry', without('latchkey_previous_secret_expires_at'), /^latchkey_previous_secret_hash must be given together/],
    ['an expiry without a previous hash', without('latchkey_previous_secret_hash'), /^latchkey_previous_secret_hash must be given together/],
    ['an expiry in milliseconds as a string', { ...good, latchkey_previous_secret_expires_at: '1893456000' }, /^latchkey_previous_secret_expires_at must be epoch seconds/],
    ['a fractional expiry', { ...good, latchkey_previous_secret_expires_at: 1.5 }, /^latchkey_previous_secret_expires_at must be epoch seconds/],
  ];
  for (const [what, metadata, message] of cases) {
    const error = await t.throwsAsync(provider([metadata]).Client.find('web'), { instanceOf: errors.InvalidClientMetadata }, what);
    t.regex(error?.error_description ?? '', message, what);
    t.false(JSON.stringify(error).includes(SECRET) || JSON.stringify(error).includes(PREVIOUS), `${what}: the error holds no secret`);
  }
});

test('the validator itself: an unknown property is refused; good values pass', (t) => {
  t.throws(() => validateLatchkeyMetadata(undefined, 'latchkey_other', true, { client_id: 'x' }), { instanceOf: errors.InvalidClientMetadata });
  t.notThrows(() => validateLatchkeyMetadata(undefined, 'latchkey_first_party', false, { client_id: 'x' }));
  t.notThrows(() => validateLatchkeyMetadata(undefined, 'latchkey_previous_secret_hash', undefined, { client_id: 'x' }));
});
