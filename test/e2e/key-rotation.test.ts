// needs: postgres redis
// Signing key rotation end to end: `latchkey keys rotate` on a running
// server. Tokens signed before keep verifying against /jwks (old and new keys
// published), tokens signed after carry the new kid; access tokens and ID
// tokens alike, and sign-in sessions carry on across the switch.
import test from 'ava';
import * as jose from 'jose';
import * as client from 'openid-client';
import { ScriptedBrowser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { authorizationRequest, codeFlow, createCodeClient, createUser, discover, eventually, type TestUser } from './support.ts';

const API = 'https://ledger.internal';

let server: RunningServer;
let machine: client.Configuration;
let web: client.Configuration;
let webClientId: string;
let user: TestUser;

interface KeyInfo { kid: string; alg: string; active: boolean }

const before: { accessToken?: string; idToken?: string; kids?: Record<string, string>; browser?: ScriptedBrowser } = {};
const rotated: Record<string, string> = {}; // alg -> new kid

test.before(async () => {
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'ledger:read', '--ttl', '600']);
  const m = await server.admin<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'Ledger sync', '--grant', 'client_credentials', '--api', API, '--scope', 'ledger:read']);
  machine = await discover(server, m.client_id, client.ClientSecretBasic(m.client_secret));
  const w = await createCodeClient(server, 'Ledger web', ['--first-party']);
  webClientId = w.client_id;
  web = await discover(server, w.client_id, client.ClientSecretBasic(w.client_secret));
  user = await createUser(server, 'rotation');
});

test.after.always(async () => {
  await server?.stop();
});

async function publishedKids(): Promise<string[]> {
  const response = await fetch(`${server.issuer}/jwks`);
  const { keys } = await response.json() as { keys: { kid: string; d?: string }[] };
  if (keys.some((key) => 'd' in key)) throw new Error('JWKS publishes a private key');
  return keys.map((key) => key.kid);
}

/** Verifies like a resource server / relying party that fetches /jwks afresh. */
function verify(token: string, options: jose.JWTVerifyOptions) {
  return jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(`${server.issuer}/jwks`)), { issuer: server.issuer, ...options });
}

const activeKids = async () => {
  const { keys } = await server.admin<{ keys: KeyInfo[] }>(['keys', 'list']);
  return Object.fromEntries(keys.filter((key) => key.active).map((key) => [key.alg, key.kid]));
};

test.serial('before rotation: tokens are signed with the active keys', async (t) => {
  before.kids = await activeKids();
  t.truthy(before.kids.ES256);
  t.truthy(before.kids.RS256);
  t.deepEqual((await publishedKids()).sort(), Object.values(before.kids).sort());

  const machineTokens = await client.clientCredentialsGrant(machine, { scope: 'ledger:read' });
  before.accessToken = machineTokens.access_token;
  t.is(jose.decodeProtectedHeader(before.accessToken).kid, before.kids.ES256);

  const { tokens, browser } = await codeFlow(server, web, user, { scope: 'openid' });
  before.idToken = tokens.id_token!;
  before.browser = browser;
  const { alg, kid } = jose.decodeProtectedHeader(before.idToken);
  t.is(kid, before.kids[alg!]);
});

test.serial('keys rotate: old and new keys are published, old tokens still verify', async (t) => {
  const result = await server.admin<{ keys: { kid: string; alg: string }[] }>(['keys', 'rotate']);
  for (const key of result.keys) rotated[key.alg] = key.kid;
  t.deepEqual(Object.keys(rotated).sort(), ['ES256', 'RS256']);
  t.notDeepEqual(rotated, before.kids);

  const listed = await server.admin<{ keys: KeyInfo[] }>(['keys', 'list']);
  for (const kid of Object.values(before.kids!)) t.false(listed.keys.find((key) => key.kid === kid)!.active, `${kid} is retired`);
  for (const kid of Object.values(rotated)) t.true(listed.keys.find((key) => key.kid === kid)!.active, `${kid} is active`);

  // The server picks the rotation up within its refresh interval.
  const kids = await eventually('new keys in /jwks', async () => {
    const published = await publishedKids();
    return Object.values(rotated).every((kid) => published.includes(kid)) ? published : undefined;
  });
  t.deepEqual(kids.sort(), [...Object.values(before.kids!), ...Object.values(rotated)].sort(), 'JWKS holds the old and the new keys');

  const access = await verify(before.accessToken!, { audience: API, typ: 'at+jwt' });
  t.is(access.protectedHeader.kid, before.kids!.ES256);
  const id = await verify(before.idToken!, { audience: webClientId });
  t.is(id.payload.sub, user.id);
});

test.serial('after rotation: new access tokens and ID tokens carry the new kids', async (t) => {
  t.truthy(rotated.ES256, 'needs the rotation of the previous test');
  const machineTokens = await client.clientCredentialsGrant(machine, { scope: 'ledger:read' });
  const access = await verify(machineTokens.access_token, { audience: API, typ: 'at+jwt' });
  t.is(access.protectedHeader.alg, 'ES256');
  t.is(access.protectedHeader.kid, rotated.ES256);

  // A fresh sign-in: the ID token is signed with the new key of its alg
  // (and openid-client, holding the JWKS it cached before the rotation, accepts it).
  const { tokens } = await codeFlow(server, web, await createUser(server, 'after-rotation'), { scope: 'openid' });
  const { alg, kid } = jose.decodeProtectedHeader(tokens.id_token!);
  t.is(kid, rotated[alg!]);
  await t.notThrowsAsync(verify(tokens.id_token!, { audience: webClientId }));
});

test.serial('a session from before the rotation carries on; its new ID token uses the new key', async (t) => {
  t.truthy(before.browser, 'needs the sign-in of the first test');
  const request = await authorizationRequest(web, { scope: 'openid', prompt: 'none' });
  const step = await before.browser!.follow(request.url.toString());
  t.truthy(step.location);
  const callback = new URL(step.location!);
  t.truthy(callback.searchParams.get('code'), `prompt=none after rotation: ${callback.searchParams.get('error')}`);
  const tokens = await client.authorizationCodeGrant(web, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.claims()!.sub, user.id);
  const { alg, kid } = jose.decodeProtectedHeader(tokens.id_token!);
  t.is(kid, rotated[alg!]);
});

test.serial('keys rotate --activate-in: the new keys are published at once and sign only from then on', async (t) => {
  const signing = await activeKids();
  const result = await server.admin<{ keys: { kid: string; alg: string }[] }>(['keys', 'rotate', '--activate-in', '4s']);
  const pending = Object.fromEntries(result.keys.map((key) => [key.alg, key.kid]));
  // Published within the change poll, while the old keys still sign.
  await eventually('new keys published', async () => ((await publishedKids()).includes(pending.ES256) ? true : undefined));
  const early = await client.clientCredentialsGrant(machine, { scope: 'ledger:read' });
  t.is(jose.decodeProtectedHeader(early.access_token).kid, signing.ES256, 'the old key signs until the activation time');
  // From the activation time on, the new key signs (the server reloads at that moment).
  const kid = await eventually('new key signing', async () => {
    const tokens = await client.clientCredentialsGrant(machine, { scope: 'ledger:read' });
    const header = jose.decodeProtectedHeader(tokens.access_token);
    return header.kid === pending.ES256 ? header.kid : undefined;
  }, 10_000);
  t.is(kid, pending.ES256);
  await t.notThrowsAsync(verify(early.access_token, { audience: API, typ: 'at+jwt' }), 'tokens of the old key still verify');
});
