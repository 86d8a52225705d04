// needs: postgres redis
// A native app (RFC 8252): a public client whose redirect URI is a private-use
// scheme signs a user in with PKCE and refreshes, through openid-client.
import test from 'ava';
import * as client from 'openid-client';
import { ScriptedBrowser, signIn } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createUser, discover } from './support.ts';

const NATIVE_REDIRECT = 'com.example.notes:/oauth/callback';
let server: RunningServer;

test.before(async () => {
  server = await startServer();
});
test.after.always(() => server?.stop());

test('a public native client with a private-use scheme signs in and refreshes', async (t) => {
  const user = await createUser(server, 'native');
  const app = await server.admin<{ client_id: string; client_secret?: string }>([
    'clients', 'create', '--name', 'Notes for iOS', '--public', '--first-party',
    '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', NATIVE_REDIRECT,
  ]);
  t.is(app.client_secret, undefined, 'a public client gets no secret');
  const config = await discover(server, app.client_id, client.None());
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: NATIVE_REDIRECT,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await signIn(new ScriptedBrowser(server.issuer), url.toString(), user);
  t.is(`${callback.protocol}${callback.pathname}`, NATIVE_REDIRECT);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
  t.is(tokens.claims()?.sub, user.id);
  t.truthy(tokens.refresh_token);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
  t.not(refreshed.refresh_token, tokens.refresh_token);
});
