// needs: postgres redis
// C29: signing key rotation with the CLI (oidcc-server-rotate-keys): after
// `latchkey keys rotate` the JWKS publishes the old and the new keys, new
// tokens are signed with the new kid, and tokens signed before the rotation
// still verify (against the published JWKS) and still work.
// (Retired keys leave the JWKS once every token they signed has expired:
// that needs the longest token lifetime plus a minute, so it is not waited
// for here.)
import test from 'ava';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createApi, createClient, createUser, credentials, decodeJwt, introspect, refresh, signInForTokens,
  tokenRequest, userinfo, waitFor, type RegisteredClient, type TokenSet, type User,
} from './_support-tokens.ts';

let server: RunningServer;
let machine: RegisteredClient;
let web: RegisteredClient;
let user: User;
let api: { identifier: string };

interface Before {
  jwks: JSONWebKeySet;
  machineToken: string;
  userTokens: TokenSet;
  opaqueTokens: TokenSet;
  rotated: { kid: string; alg: string }[];
}
let before: Before;

const jwks = async (): Promise<JSONWebKeySet> => (await fetch(`${server.issuer}/jwks`)).json();
const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid!);

async function machineToken(): Promise<string> {
  const result = await tokenRequest(server, { grant_type: 'client_credentials', scope: 'reports:read' }, credentials(machine));
  if (result.status !== 200) throw new Error(`client_credentials answered ${result.status}: ${result.text}`);
  return result.body.access_token;
}

test.before(async () => {
  server = await startServer();
  api = await createApi(server, 'reports:read');
  machine = await createClient(server, ['--grant', 'client_credentials', '--api', api.identifier, '--scope', 'reports:read']);
  web = await createClient(server, ['--api', api.identifier, '--scope', 'reports:read']);
  user = await createUser(server);
  await adminChangesApplied(server);

  const oldJwks = await jwks();
  const oldMachineToken = await machineToken();
  const userTokens = await signInForTokens(server, web, user, { scope: 'openid reports:read', resource: api.identifier });
  const opaqueTokens = await signInForTokens(server, web, user);
  const rotated = (await server.admin<{ keys: { kid: string; alg: string }[] }>(['keys', 'rotate'])).keys;
  // The server reloads its keys within ~1 s of the change.
  const published = await waitFor(async () => {
    const current = kids(await jwks());
    return rotated.every((k) => current.includes(k.kid));
  }, 10_000);
  if (!published) throw new Error(`new keys ${rotated.map((k) => k.kid)} never reached ${server.issuer}/jwks`);
  before = { jwks: oldJwks, machineToken: oldMachineToken, userTokens, opaqueTokens, rotated };
});
test.after.always(async () => {
  await server?.stop();
});

test('C29 the CLI rotates every signing alg to a new kid', (t) => {
  t.deepEqual(before.rotated.map((k) => k.alg).sort(), ['ES256', 'RS256']);
  for (const key of before.rotated) t.false(kids(before.jwks).includes(key.kid), `${key.kid} is new`);
});

test('C29 the JWKS holds both the old and the new keys', async (t) => {
  const current = kids(await jwks());
  for (const kid of kids(before.jwks)) t.true(current.includes(kid), `old key ${kid} still published`);
  for (const { kid } of before.rotated) t.true(current.includes(kid), `new key ${kid} published`);
  // Public keys only.
  for (const key of (await jwks()).keys) t.false('d' in key, `${key.kid} is public`);
});

test('C29 keys list shows the old keys retired and the new ones active', async (t) => {
  const listed = (await server.admin<{ keys: { kid: string; active: boolean; retired_at: string | null }[] }>(['keys', 'list'])).keys;
  for (const kid of kids(before.jwks)) t.like(listed.find((k) => k.kid === kid), { active: false });
  for (const { kid } of before.rotated) t.like(listed.find((k) => k.kid === kid), { active: true, retired_at: null });
});

test('C29 new tokens are signed with the new kid and verify', async (t) => {
  const newEs = before.rotated.find((k) => k.alg === 'ES256')!.kid;
  const newRs = before.rotated.find((k) => k.alg === 'RS256')!.kid;
  const keySet = createLocalJWKSet(await jwks());

  const access = await machineToken();
  t.is(decodeJwt(access).header.kid, newEs);
  await t.notThrowsAsync(jwtVerify(access, keySet, { issuer: server.issuer, audience: api.identifier }));

  const userTokens = await signInForTokens(server, web, user, { scope: 'openid reports:read', resource: api.identifier });
  t.is(decodeJwt(userTokens.access_token).header.kid, newEs);
  const idAlg = decodeJwt(userTokens.id_token!).header.alg;
  t.is(decodeJwt(userTokens.id_token!).header.kid, idAlg === 'ES256' ? newEs : newRs);
  await t.notThrowsAsync(jwtVerify(userTokens.id_token!, keySet, { issuer: server.issuer, audience: web.client_id }));

  // A refresh after the rotation also signs with the new keys.
  const refreshed = await refresh(server, web, before.userTokens.refresh_token!);
  t.is(refreshed.status, 200, refreshed.text);
  t.is(decodeJwt(refreshed.body.access_token).header.kid, newEs);
  t.is(decodeJwt(refreshed.body.id_token).header.kid, idAlg === 'ES256' ? newEs : newRs);
});

test('C29 tokens signed before the rotation still verify against the published JWKS', async (t) => {
  const keySet = createLocalJWKSet(await jwks());
  const oldKids = kids(before.jwks);
  t.true(oldKids.includes(decodeJwt(before.machineToken).header.kid));
  await t.notThrowsAsync(jwtVerify(before.machineToken, keySet, { issuer: server.issuer, audience: api.identifier }));
  t.true(oldKids.includes(decodeJwt(before.userTokens.access_token).header.kid));
  await t.notThrowsAsync(jwtVerify(before.userTokens.access_token, keySet, { issuer: server.issuer, audience: api.identifier }));
  t.true(oldKids.includes(decodeJwt(before.userTokens.id_token!).header.kid));
  await t.notThrowsAsync(jwtVerify(before.userTokens.id_token!, keySet, { issuer: server.issuer, audience: web.client_id }));
});

test('C29 opaque tokens issued before the rotation keep working', async (t) => {
  // The provider is rebuilt with the new keys; the tokens in Redis must survive it.
  t.is((await userinfo(server, before.opaqueTokens.access_token)).status, 200);
  t.true((await introspect(server, before.opaqueTokens.access_token, credentials(web))).body.active);
  t.true((await introspect(server, before.opaqueTokens.refresh_token!, credentials(web))).body.active);
});
