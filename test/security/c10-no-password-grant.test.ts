// needs: postgres redis
// C10: no resource owner password credentials grant (RFC 9700 §2.4, OAuth 2.1).
// grant_type=password gets unsupported_grant_type and no token, for every
// kind of client and with the user's real credentials; discovery does not
// offer it and the CLI will not register a client for it.
import test from 'ava';
import {
  startAuthzFixture,
  tokenRequest,
  USER,
  type AuthzFixture,
} from './_support-authz.ts';

let fixture: AuthzFixture;

test.before(async () => {
  fixture = await startAuthzFixture({ spa: true, machine: true });
});
test.after.always(async () => {
  await fixture?.stop();
});

const PASSWORD_GRANT = { grant_type: 'password', username: USER.email, password: USER.password, scope: 'openid email' };

test('C10 grant_type=password with the user\'s real credentials gets unsupported_grant_type', async (t) => {
  const clients = [['confidential code client', fixture.web], ['public client', fixture.spa], ['client_credentials client', fixture.machine]] as const;
  for (const [label, client] of clients) {
    const { status, json } = await tokenRequest(fixture.issuer, client, PASSWORD_GRANT);
    t.is(status, 400, `${label}: ${JSON.stringify(json)}`);
    t.is(json.error, 'unsupported_grant_type', `${label}: ${json.error_description}`);
    for (const token of ['access_token', 'id_token', 'refresh_token']) t.is(json[token], undefined, `${label}: no ${token}`);
  }
});

test('C10 grant_type=password sent with client_secret_post or without client authentication gets no token', async (t) => {
  const post = await fetch(new URL('/token', fixture.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ ...PASSWORD_GRANT, client_id: fixture.web.client_id, client_secret: fixture.web.client_secret }),
  });
  const postJson = await post.json() as Record<string, unknown>;
  t.true(post.status === 400 || post.status === 401, `client_secret_post: ${post.status}`);
  t.is(postJson.access_token, undefined, 'client_secret_post: no access token');
  t.true(postJson.error === 'unsupported_grant_type' || postJson.error === 'invalid_client', `client_secret_post: ${JSON.stringify(postJson)}`);

  const anonymous = await fetch(new URL('/token', fixture.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(PASSWORD_GRANT),
  });
  const anonymousJson = await anonymous.json() as Record<string, unknown>;
  // Without client authentication the request may fail on that first.
  t.true(anonymous.status === 400 || anonymous.status === 401, `no client: ${anonymous.status}`);
  t.true(['unsupported_grant_type', 'invalid_request', 'invalid_client'].includes(String(anonymousJson.error)), `no client: ${JSON.stringify(anonymousJson)}`);
  t.is(anonymousJson.access_token, undefined, 'no client: no access token');
});

test('C10 grant_type=implicit at the token endpoint gets unsupported_grant_type', async (t) => {
  const { status, json } = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'implicit', username: USER.email, password: USER.password });
  t.is(status, 400, JSON.stringify(json));
  t.is(json.error, 'unsupported_grant_type');
  t.is(json.access_token, undefined);
});

test('C10 discovery does not offer the password or implicit grant', async (t) => {
  const metadata = await (await fetch(new URL('/.well-known/openid-configuration', fixture.issuer))).json() as Record<string, unknown>;
  t.true(Array.isArray(metadata.grant_types_supported));
  t.false((metadata.grant_types_supported as string[]).includes('password'));
  t.false((metadata.grant_types_supported as string[]).includes('implicit'));
});

test('C10 control: the same client credentials are accepted for the grants the clients are registered for', async (t) => {
  const { status, json } = await tokenRequest(fixture.issuer, fixture.machine, { grant_type: 'client_credentials' });
  t.is(status, 200, JSON.stringify(json));
  t.truthy(json.access_token);
  // The code client's credentials are good too: a wrong grant, not a bad secret, is what is refused above.
  const wrongCode = await tokenRequest(fixture.issuer, fixture.web, { grant_type: 'authorization_code', code: 'not-a-code', redirect_uri: 'https://app.example.com/callback', code_verifier: 'x'.repeat(43) });
  t.is(wrongCode.json.error, 'invalid_grant', JSON.stringify(wrongCode.json));
});

test('C10 the CLI refuses to register a client for the password grant', async (t) => {
  const run = await fixture.server.cli(['clients', 'create', '--name', 'Legacy', '--grant', 'password', '--json']);
  t.not(run.code, 0);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^latchkey: [^\n]*password[^\n]*\n$/);
  const { clients } = await fixture.server.admin<{ clients: { name: string }[] }>(['clients', 'list']);
  t.false(clients.some((client) => client.name === 'Legacy'));
});
