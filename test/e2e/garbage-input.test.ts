// needs: postgres redis
// Garbage from strangers gets a clear 4xx, never a 500: NUL bytes (which
// Postgres text cannot hold), absurdly long values, in client_id, resource
// and the sign-in form.
import test from 'ava';
import { parseForm, ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createCodeClient, REDIRECT_URI } from './support.ts';

let server: RunningServer;
test.before(async () => {
  server = await startServer();
});
test.after.always(() => server?.stop());

const NUL = '\u0000';
const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

for (const [name, value] of [['a NUL byte', `abc${NUL}def`], ['8 KiB', 'x'.repeat(8192)]] as const) {
  test(`client_id with ${name}: /auth answers 400, /token refuses with a 4xx`, async (t) => {
    const auth = await fetch(`${server.issuer}/auth?${new URLSearchParams({ client_id: value, response_type: 'code', scope: 'openid' })}`, { redirect: 'manual' });
    t.is(auth.status, 400);
    t.is(auth.headers.get('location'), null);
    const basic = await fetch(`${server.issuer}/token`, {
      ...form({ grant_type: 'client_credentials' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(value)}:secret`).toString('base64')}` },
    });
    // 401 invalid_client, or 400 when the Basic value is not properly encoded.
    t.true(basic.status === 401 || basic.status === 400, `${basic.status} ${await basic.text()}`);
    const post = await fetch(`${server.issuer}/token`, form({ grant_type: 'client_credentials', client_id: value, client_secret: 'secret' }));
    t.is(post.status, 401, await post.text());
  });
}

test('resource with a NUL byte: invalid_target, not a server error', async (t) => {
  await server.admin(['apis', 'create', '--identifier', 'https://garbage.internal', '--scope', 'read']);
  const machine = await server.admin<{ client_id: string; client_secret: string }>([
    'clients', 'create', '--name', 'garbage machine', '--grant', 'client_credentials', '--api', 'https://garbage.internal', '--scope', 'read',
  ]);
  const response = await fetch(`${server.issuer}/token`, form({
    grant_type: 'client_credentials', client_id: machine.client_id, client_secret: machine.client_secret, resource: `https://garbage.internal${NUL}`,
  }));
  t.is(response.status, 400);
  t.is((await response.json() as { error: string }).error, 'invalid_target');
});

test('an email with a NUL byte on the sign-in form: the usual wrong-credentials page', async (t) => {
  const app = await createCodeClient(server, 'garbage web', ['--first-party']);
  const browser = new ScriptedBrowser(server.issuer);
  const page = await browser.follow(`/auth?${new URLSearchParams({
    client_id: app.client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
  })}`);
  const login = parseForm(page.html, /\/login$/);
  const result = await browser.follow(login.action, { method: 'POST', form: { ...login.fields, email: `ann${NUL}@example.com`, password: 'whatever it is' } });
  t.is(result.response.status, 401);
  t.regex(result.html, /The email or password is not correct\./);
});
