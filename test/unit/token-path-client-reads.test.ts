// A client_credentials token request reads the client's Latchkey fields
// (secret hashes, APIs and scopes) from the oidc-provider client it
// authenticated (ctx.oidc.client), never from a second lookup of the record:
// a registered client is a static client of the Provider, so the request
// makes no lookup at all; a client created since the Provider was built
// costs one, oidc-provider's own find through the Client adapter.
import test from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { pino } from 'pino';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import type { Api } from '../../server/apis/types.ts';
import type { Client } from '../../server/clients/types.ts';
import { loadConfig } from '../../server/config/index.ts';
import { hashSecret } from '../../server/crypto/secrets.ts';
import { ProviderHost } from '../../server/oidc/provider-host.ts';

const HASH_KEY = Buffer.alloc(32, 7);
const ORDERS: Api = { id: '1', identifier: 'https://orders.example', name: null, scopes: ['orders:read', 'orders:write'], accessTokenTtl: 120, createdAt: new Date() };
const BILLING: Api = { ...ORDERS, id: '2', identifier: 'https://billing.example', scopes: ['billing:read'] };

const machine = (clientId: string, secret: string, grant: Client['apis']): Client => ({
  clientId,
  name: clientId,
  grantTypes: ['client_credentials'],
  redirectUris: [],
  postLogoutRedirectUris: [],
  tokenEndpointAuthMethod: 'client_secret_basic',
  secretHash: hashSecret(HASH_KEY, secret),
  previousSecretHash: null,
  previousSecretExpiresAt: null,
  jwks: null,
  firstParty: false,
  requireMfa: false,
  trustedDevices: true,
  idTokenAlg: 'ES256',
  apis: grant,
  createdAt: new Date(),
});

// Registered when the Provider is built: a static client.
const registered = machine('registered', 'registered-secret', [{ apiIdentifier: ORDERS.identifier, scopes: ['orders:read'] }]);
// Created after it: found through the Client adapter.
const created = machine('created', 'created-secret', [{ apiIdentifier: BILLING.identifier, scopes: ['billing:read'] }]);

const lookups: string[] = [];
let server: Server;
let origin: string;

test.before(async () => {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const host = new ProviderHost({
    config: loadConfig({}),
    cookieKeys: ['test-cookie-key'],
    // Every lookup of a client record is counted. The registered client's
    // record is not there: whatever reads it instead of the Provider's client fails.
    clients: {
      findById: async (id) => {
        lookups.push(id);
        return id === created.clientId ? created : undefined;
      },
    },
    apis: { findByIdentifier: async (identifier) => [ORDERS, BILLING].find((api) => api.identifier === identifier) },
    accounts: { findById: async () => undefined },
    adapterFactory: createAdapterFactory({ keyPrefix: 'test:' }),
    hasFactors: async () => false,
    secretHashKey: HASH_KEY,
    logger: pino({ level: 'silent' }),
    loadJwks: async () => [jwk],
    loadClients: async () => [registered],
  });
  await host.refresh();
  server = createServer((req, res) => void host.callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => new Promise<void>((resolve) => server?.close(() => resolve())));

async function clientCredentials(clientId: string, secret: string, scope: string) {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  return { status: response.status, body: await response.json() as { access_token?: string; error?: string } };
}

test.serial('a registered client gets its token with no lookup of its record', async (t) => {
  lookups.length = 0;
  const { status, body } = await clientCredentials(registered.clientId, 'registered-secret', 'orders:read');
  t.is(status, 200, JSON.stringify(body));
  const claims = decodeJwt(body.access_token!);
  t.is(claims.aud, ORDERS.identifier, 'the audience is the API granted in its metadata');
  t.is(claims.scope, 'orders:read');
  t.deepEqual(lookups, [], 'no client lookup on the token path');
});

test.serial('the registered client\'s secret and scopes are checked against its metadata', async (t) => {
  lookups.length = 0;
  t.is((await clientCredentials(registered.clientId, 'wrong-secret', 'orders:read')).status, 401);
  const refused = await clientCredentials(registered.clientId, 'registered-secret', 'orders:write');
  t.is(refused.status, 400);
  t.is(refused.body.error, 'invalid_scope', 'a scope the API offers but the client was not granted');
  t.deepEqual(lookups, []);
});

test.serial('a client created since the Provider was built costs one lookup: the provider\'s own find', async (t) => {
  lookups.length = 0;
  const { status, body } = await clientCredentials(created.clientId, 'created-secret', 'billing:read');
  t.is(status, 200, JSON.stringify(body));
  t.is(decodeJwt(body.access_token!).aud, BILLING.identifier);
  t.deepEqual(lookups, [created.clientId]);
});
