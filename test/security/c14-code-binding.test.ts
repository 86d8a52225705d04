// needs: postgres redis
// C14: a code is bound to the client it was issued to and to the exact
// redirect_uri of the authorization request (RFC 6749 §4.1.3). Each case
// uses a fresh code, and the rightful redemption is checked afterwards so the
// refusal cannot come from an already-broken code.
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createClient, createUser, credentials, obtainCode, redeemCode, tokenRequest,
  type RegisteredClient, type User,
} from './_support-tokens.ts';

let server: RunningServer;
let clientA: RegisteredClient;
let clientB: RegisteredClient;
let publicC: RegisteredClient;
let user: User;
const A_FIRST = 'https://a.example.com/cb';
const A_SECOND = 'https://a.example.com/other-cb';

test.before(async () => {
  server = await startServer();
  clientA = await createClient(server, ['--redirect-uri', A_FIRST, '--redirect-uri', A_SECOND]);
  // B even registers A's redirect URI: the binding is to the client, not only to the URI.
  clientB = await createClient(server, ['--redirect-uri', A_FIRST]);
  publicC = await createClient(server, ['--public', '--redirect-uri', A_FIRST]);
  user = await createUser(server);
  await adminChangesApplied(server);
});
test.after.always(async () => {
  await server?.stop();
});

test('C14 another confidential client redeeming the code: invalid_grant', async (t) => {
  const issued = await obtainCode(server, clientA, user, { redirectUri: A_FIRST });
  const stolen = await tokenRequest(server, {
    grant_type: 'authorization_code', code: issued.code, redirect_uri: A_FIRST, code_verifier: issued.verifier,
  }, credentials(clientB));
  t.is(stolen.status, 400, stolen.text);
  t.is(stolen.body.error, 'invalid_grant');
  t.falsy(stolen.body.access_token);
  // The code itself was good: its client can still redeem it.
  const rightful = await redeemCode(server, clientA, issued);
  t.is(rightful.status, 200, rightful.text);
});

test('C14 a public client naming itself redeeming the code: invalid_grant', async (t) => {
  const issued = await obtainCode(server, clientA, user, { redirectUri: A_FIRST });
  const stolen = await tokenRequest(server, {
    grant_type: 'authorization_code', code: issued.code, redirect_uri: A_FIRST, code_verifier: issued.verifier, client_id: publicC.client_id,
  });
  t.is(stolen.status, 400, stolen.text);
  t.is(stolen.body.error, 'invalid_grant');
  t.falsy(stolen.body.access_token);
});

test('C14 the right client with another of its registered redirect URIs: invalid_grant', async (t) => {
  const issued = await obtainCode(server, clientA, user, { redirectUri: A_FIRST });
  const moved = await redeemCode(server, clientA, issued, { redirect_uri: A_SECOND });
  t.is(moved.status, 400, moved.text);
  t.is(moved.body.error, 'invalid_grant');
  t.falsy(moved.body.access_token);
});

test('C14 the right client with a variant of the redirect URI: invalid_grant', async (t) => {
  for (const variant of [`${A_FIRST}/`, `${A_FIRST}?x=1`, A_FIRST.toUpperCase(), 'https://a.example.com:443/cb']) {
    const issued = await obtainCode(server, clientA, user, { redirectUri: A_FIRST });
    const moved = await redeemCode(server, clientA, issued, { redirect_uri: variant });
    t.is(moved.status, 400, `${variant}: ${moved.text}`);
    t.is(moved.body.error, 'invalid_grant', variant);
  }
});

test('C14 a code issued for the second redirect URI is redeemed with that URI only', async (t) => {
  const issued = await obtainCode(server, clientA, user, { redirectUri: A_SECOND });
  const wrong = await redeemCode(server, clientA, issued, { redirect_uri: A_FIRST });
  t.is(wrong.status, 400, wrong.text);
  t.is(wrong.body.error, 'invalid_grant');
  const fresh = await obtainCode(server, clientA, user, { redirectUri: A_SECOND });
  const right = await redeemCode(server, clientA, fresh);
  t.is(right.status, 200, right.text);
});
