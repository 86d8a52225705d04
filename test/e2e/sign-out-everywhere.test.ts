// needs: postgres redis
// `latchkey users sign-out` and `users set-password` end a user's existing
// sessions and tokens at once: refresh, userinfo, introspection (opaque and
// JWT access tokens) and silent sign-in all stop; signing in again works.
import test from 'ava';
import * as client from 'openid-client';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { authorizationRequest, codeFlow, createCodeClient, createUser, discover, oauthError, type SignedIn } from './support.ts';

const API = 'https://ledger.internal';
let server: RunningServer;
let config: client.Configuration;

test.before(async () => {
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'ledger:read']);
  const app = await createCodeClient(server, 'Ledger web', ['--grant', 'refresh_token', '--first-party', '--api', API, '--scope', 'ledger:read']);
  config = await discover(server, app.client_id, client.ClientSecretBasic(app.client_secret!));
});
test.after.always(() => server?.stop());

/** prompt=none with the signed-in browser: a code, or the error. */
async function silent(signedIn: SignedIn): Promise<URL> {
  const request = await authorizationRequest(config, { prompt: 'none' });
  const step = await signedIn.browser.follow(request.url.toString());
  return new URL(step.location!);
}

async function assertSignedOut(t: import('ava').ExecutionContext, opaque: SignedIn, jwt: SignedIn, userId: string) {
  t.is(await oauthError(client.refreshTokenGrant(config, opaque.tokens.refresh_token!)), 'invalid_grant');
  t.is(await oauthError(client.fetchUserInfo(config, opaque.tokens.access_token, userId)), 'invalid_token');
  t.false((await client.tokenIntrospection(config, opaque.tokens.access_token)).active);
  t.false((await client.tokenIntrospection(config, jwt.tokens.access_token)).active, 'the JWT access token for the API');
  t.is((await silent(opaque)).searchParams.get('error'), 'login_required');
}

for (const [how, signOut] of [
  ['users sign-out', (user: { email: string }) => server.admin(['users', 'sign-out', user.email])],
  ['users set-password', (user: { email: string }) => server.admin(['users', 'set-password', user.email, '--password-stdin'], { stdin: 'a brand new passphrase 42' })],
] as const) {
  test.serial(`${how} ends every session and token of the user, and only theirs`, async (t) => {
    const user = await createUser(server, how.replace(/\W/g, ''));
    const bystander = await createUser(server, 'bystander');
    const opaque = await codeFlow(server, config, user, { scope: 'openid email' });
    const jwt = await codeFlow(server, config, user, { scope: 'openid ledger:read', resource: API });
    const other = await codeFlow(server, config, bystander, { scope: 'openid' });
    t.truthy((await silent(opaque)).searchParams.get('code'), 'the session works before');
    t.true((await client.tokenIntrospection(config, jwt.tokens.access_token)).active);

    // Sessions are compared at one-second granularity: leave that second first.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await signOut(user);
    await assertSignedOut(t, opaque, jwt, user.id);

    t.truthy((await silent(other)).searchParams.get('code'), 'other users are not affected');
    const password = how === 'users set-password' ? 'a brand new passphrase 42' : user.password;
    const again = await codeFlow(server, config, { ...user, password }, { scope: 'openid' });
    t.is(again.tokens.claims()?.sub, user.id, 'the user can sign in again');
  });
}
