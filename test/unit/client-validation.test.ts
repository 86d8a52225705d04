import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import type { NewClient } from '../../server/clients/types.ts';
import { parseAuthMethod, parseGrantTypes, parseJwks, validateNewClient, validateRedirectUri } from '../../server/clients/validate.ts';
import { parseAccessTokenTtl, parseScopes, validateApiIdentifier, validateApiScopes } from '../../server/apis/validate.ts';

const client = (overrides: Partial<NewClient> = {}): NewClient => ({
  name: 'Web',
  grantTypes: ['authorization_code', 'refresh_token'],
  redirectUris: ['https://app.example.com/callback'],
  postLogoutRedirectUris: [],
  tokenEndpointAuthMethod: 'client_secret_basic',
  jwks: null,
  firstParty: false,
  idTokenAlg: 'ES256',
  apis: [],
  ...overrides,
});

test('C03: plain http redirect URIs are refused except on loopback', (t) => {
  t.throws(() => validateRedirectUri('http://example.com/cb'), { message: /must use https.*localhost, 127\.0\.0\.1 and \[::1\]/ });
  t.throws(() => validateRedirectUri('http://192.168.1.10/cb'), { message: /must use https/ });
  t.throws(() => validateRedirectUri('http://localhost.example.com/cb'), { message: /must use https/ });
  for (const uri of ['http://localhost/cb', 'http://localhost:8080/cb', 'http://127.0.0.1:5173/cb', 'http://[::1]:3000/cb']) {
    t.is(validateRedirectUri(uri), uri);
  }
  t.is(validateRedirectUri('https://app.example.com/cb?x=1'), 'https://app.example.com/cb?x=1');
});

test('C03: redirect URIs must be absolute and have no fragment', (t) => {
  t.throws(() => validateRedirectUri('/callback'), { message: /absolute URI/ });
  t.throws(() => validateRedirectUri('app.example.com/cb'), { message: /absolute URI/ });
  t.throws(() => validateRedirectUri('https://app.example.com/cb#x'), { message: /fragment/ });
  t.throws(() => validateRedirectUri('https://app.example.com/c b'), { message: /absolute URI/ });
  t.throws(() => validateRedirectUri('https://user:pw@app.example.com/cb'), { message: /user name or password/ });
});

test('C03: native apps may use reverse-domain private-use schemes; dangerous schemes are refused', (t) => {
  t.is(validateRedirectUri('com.example.app:/cb'), 'com.example.app:/cb');
  for (const uri of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'myapp:/cb']) {
    t.throws(() => validateRedirectUri(uri), { message: /scheme/ }, uri);
  }
});

test('only the three supported grants; password and implicit are refused with the reason', (t) => {
  t.deepEqual(parseGrantTypes(['authorization_code', 'refresh_token', 'authorization_code']), ['authorization_code', 'refresh_token']);
  t.throws(() => parseGrantTypes(['password']), { message: /password grant is refused.*OAuth 2\.1/ });
  t.throws(() => parseGrantTypes(['implicit']), { message: /implicit grant is refused/ });
  t.throws(() => parseGrantTypes(['device_code']), { message: /unknown grant/ });
});

test('grant combinations', (t) => {
  t.notThrows(() => validateNewClient(client()));
  t.throws(() => validateNewClient(client({ grantTypes: [] })), { message: /at least one grant/ });
  t.throws(() => validateNewClient(client({ grantTypes: ['refresh_token'], redirectUris: [] })), { message: /refresh_token needs authorization_code/ });
  t.throws(() => validateNewClient(client({ redirectUris: [] })), { message: /at least one --redirect-uri/ });
  t.throws(() => validateNewClient(client({ grantTypes: ['client_credentials'] })), { message: /only used by authorization_code/ });
  t.throws(() => validateNewClient(client({ redirectUris: ['http://example.com/cb'] })), { message: /must use https/ });
  t.throws(() => validateNewClient(client({ postLogoutRedirectUris: ['http://example.com/'] })), { message: /post-logout redirect URI/ });
});

test('public clients cannot use client_credentials', (t) => {
  t.notThrows(() => validateNewClient(client({ tokenEndpointAuthMethod: 'none' })));
  t.throws(
    () => validateNewClient(client({ tokenEndpointAuthMethod: 'none', grantTypes: ['client_credentials'], redirectUris: [] })),
    { message: /public client cannot use client_credentials/ },
  );
  t.throws(() => parseAuthMethod('client_secret_jwt'), { message: /unknown client authentication/ });
});

test('private_key_jwt needs a JWKS of public keys', (t) => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = publicKey.export({ format: 'jwk' });
  const jwks = parseJwks(JSON.stringify({ keys: [{ ...publicJwk, kid: 'k1' }] }));
  t.is(jwks.keys.length, 1);
  t.notThrows(() => validateNewClient(client({ tokenEndpointAuthMethod: 'private_key_jwt', jwks, grantTypes: ['client_credentials'], redirectUris: [] })));
  t.throws(() => validateNewClient(client({ tokenEndpointAuthMethod: 'private_key_jwt' })), { message: /--jwks-file/ });
  t.throws(() => validateNewClient(client({ jwks })), { message: /only used with --auth private_key_jwt/ });
  t.throws(() => parseJwks(JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] })), { message: /private member "d"/ });
  t.throws(() => parseJwks(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })), { message: /private member "k"/ });
  t.throws(() => parseJwks('{"keys": []}'), { message: /at least one key/ });
  t.throws(() => parseJwks('not json'), { message: /not valid JSON/ });
  t.throws(() => parseJwks(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }] })), { message: /not a valid EC public key/ });
});

test('API identifiers: absolute, no fragment, https unless local', (t) => {
  t.is(validateApiIdentifier('https://api.example.com'), 'https://api.example.com');
  t.is(validateApiIdentifier('urn:example:orders'), 'urn:example:orders');
  for (const ok of ['http://localhost:4000', 'http://orders.internal', 'http://printer.local/api']) t.is(validateApiIdentifier(ok), ok);
  t.throws(() => validateApiIdentifier('http://api.example.com'), { message: /must use https/ });
  t.throws(() => validateApiIdentifier('https://api.example.com/#x'), { message: /fragment/ });
  t.throws(() => validateApiIdentifier('orders'), { message: /absolute URI/ });
  t.throws(() => validateApiIdentifier(' https://api.example.com'), { message: /spaces/ });
});

test('scopes are RFC 6749 tokens; OIDC scopes are not API scopes', (t) => {
  t.deepEqual(parseScopes('  orders:read  orders:write orders:read '), ['orders:read', 'orders:write']);
  t.throws(() => parseScopes('orders"read'), { message: /RFC 6749/ });
  t.throws(() => parseScopes('ordérs'), { message: /RFC 6749/ });
  t.throws(() => validateApiScopes(['openid']), { message: /OpenID Connect/ });
});

test('access token ttl is 1s to 24h', (t) => {
  t.is(parseAccessTokenTtl('300'), 300);
  t.is(parseAccessTokenTtl('5m'), 300);
  t.is(parseAccessTokenTtl('24h'), 86400);
  t.throws(() => parseAccessTokenTtl('25h'), { message: /between 1s and 1d/ });
  t.throws(() => parseAccessTokenTtl('0'), { message: /--ttl/ });
  t.throws(() => parseAccessTokenTtl('soon'), { message: /--ttl/ });
});

test('native apps: loopback redirect URIs use http, not https', (t) => {
  t.notThrows(() => validateNewClient(client({ redirectUris: ['com.example.app:/cb', 'http://127.0.0.1/cb'] })));
  t.throws(() => validateNewClient(client({ redirectUris: ['com.example.app:/cb', 'https://localhost/cb'] })), { message: /native app redirect URI https:\/\/localhost\/cb must use http for loopback/ });
  t.notThrows(() => validateNewClient(client({ redirectUris: ['https://localhost/cb'] })), 'a web client may use https on localhost');
});
