// needs: postgres redis
// C21: confidential clients must authenticate at /token,
// /token/introspection and /token/revocation. No secret, a wrong secret, a
// revoked secret or an unknown client: 401 invalid_client (RFC 6749 §5.2),
// with a WWW-Authenticate challenge when the client tried HTTP Basic.
import test, { type ExecutionContext } from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createApi, createClient, createUser, credentials, postForm, signInForTokens, waitFor,
  type HttpResult, type RegisteredClient, type TokenSet,
} from './_support-tokens.ts';

let server: RunningServer;
let basicClient: RegisteredClient;
let postClient: RegisteredClient;
let otherClient: RegisteredClient;
let tokens: TokenSet;

test.before(async () => {
  server = await startServer();
  basicClient = await createClient(server);
  postClient = await createClient(server, ['--auth', 'client_secret_post']);
  otherClient = await createClient(server);
  const user = await createUser(server);
  await adminChangesApplied(server);
  tokens = await signInForTokens(server, basicClient, user);
});
test.after.always(async () => {
  await server?.stop();
});

/** One realistic request per endpoint, carrying real tokens so a success would be visible. */
const endpoints = () => [
  { name: '/token', path: '/token', form: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token } },
  { name: '/token/introspection', path: '/token/introspection', form: { token: tokens.access_token } },
  { name: '/token/revocation', path: '/token/revocation', form: { token: tokens.access_token } },
];

/** A wrong secret of the same shape as a real one (43 base64url chars). */
const wrongSecret = (secret: string) => `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;

function assertInvalidClient(t: ExecutionContext, result: HttpResult, label: string, triedBasic: boolean) {
  t.is(result.status, 401, `${label}: ${result.text}`);
  t.is(result.body.error, 'invalid_client', label);
  t.false('active' in result.body, `${label}: no introspection data`);
  t.falsy(result.body.access_token, `${label}: no tokens`);
  if (triedBasic) t.regex(result.headers.get('www-authenticate') ?? '', /^Basic /i, `${label}: WWW-Authenticate challenge (RFC 6749 §5.2)`);
}

test('C21 client_id without a secret: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, { ...endpoint.form, client_id: basicClient.client_id });
    assertInvalidClient(t, result, endpoint.name, false);
  }
});

test('C21 HTTP Basic with a wrong secret: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form, [basicClient.client_id, wrongSecret(basicClient.client_secret!)]);
    assertInvalidClient(t, result, endpoint.name, true);
  }
});

test('C21 HTTP Basic with another client\'s secret: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form, [basicClient.client_id, otherClient.client_secret!]);
    assertInvalidClient(t, result, endpoint.name, true);
  }
});

test('C21 client_secret_post with a wrong secret: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, {
      ...endpoint.form, client_id: postClient.client_id, client_secret: wrongSecret(postClient.client_secret!),
    });
    assertInvalidClient(t, result, endpoint.name, false);
  }
});

test('C21 an unknown client_id: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form, ['no-such-client', basicClient.client_secret!]);
    assertInvalidClient(t, result, endpoint.name, true);
  }
});

test('C21 HTTP Basic with an empty secret: 401 invalid_client at every endpoint', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form, [basicClient.client_id, '']);
    assertInvalidClient(t, result, endpoint.name, true);
  }
});

test('C21 no client authentication at all: 401 invalid_client at every endpoint (RFC 6749 §5.2)', async (t) => {
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form);
    assertInvalidClient(t, result, endpoint.name, false);
  }
});

test('C21 a secret revoked with `clients rotate-secret --grace 0` stops working; the new one works', async (t) => {
  const api = await createApi(server, 'jobs:run');
  const client = await createClient(server, ['--grant', 'client_credentials', '--api', api.identifier]);
  const old = client.client_secret!;
  // `--` in case the client_id starts with "-" (it is base64url).
  const run = await server.cli(['clients', 'rotate-secret', '--grace', '0', '--json', '--', client.client_id]);
  t.is(run.code, 0, run.stderr);
  const fresh = run.json<{ client_secret: string }>().client_secret;
  t.not(fresh, old);
  const probe = (secret: string) => postForm(`${server.issuer}/token/introspection`, { token: 'x' }, [client.client_id, secret]);
  const refused = await waitFor(async () => (await probe(old)).status === 401, 5000);
  t.true(refused, 'the revoked secret still authenticates');
  for (const endpoint of endpoints()) {
    const result = await postForm(`${server.issuer}${endpoint.path}`, endpoint.form, [client.client_id, old]);
    assertInvalidClient(t, result, `${endpoint.name} (revoked secret)`, true);
  }
  t.is((await probe(fresh)).status, 200);
});

test('C21 the right secret is accepted (control)', async (t) => {
  const introspection = await postForm(`${server.issuer}/token/introspection`, { token: tokens.access_token }, credentials(basicClient));
  t.is(introspection.status, 200, introspection.text);
  t.true(introspection.body.active);
  const post = await postForm(`${server.issuer}/token/introspection`, {
    token: tokens.access_token, client_id: postClient.client_id, client_secret: postClient.client_secret,
  });
  t.is(post.status, 200, post.text);
  // A secret is compared whole: a prefix is not enough.
  const prefix = await postForm(`${server.issuer}/token/introspection`, { token: 'x' }, [basicClient.client_id, basicClient.client_secret!.slice(0, 20)]);
  t.is(prefix.status, 401);
});
