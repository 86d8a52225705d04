// needs: postgres redis
// C27: forged access tokens are rejected: 401 at userinfo, inactive at
// introspection. The forgeries are built with jose against this server's
// real JWKS and real tokens, so each one is the attack it names:
//   - alg "none" (unsigned), a header without alg;
//   - HS256 MACed with the server's PUBLIC key bytes (key confusion);
//   - an unknown kid, and the server's kid on a token signed by another key;
//   - an expired token (signed with a key generated here, never the server's);
//   - a real JWT access token with an edited payload or a stripped signature;
//   - real opaque access tokens with one character changed, cut or added.
// Forged JWTs copy the claims of real tokens (sub, client_id, scope, iss,
// and jti = a real token's id), so a server that looked tokens up by a
// claim instead of verifying them would be caught.
import test from 'ava';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import {
  adminChangesApplied, createApi, createClient, createUser, credentials, decodeJwt, introspect, signInForTokens, userinfo,
  type RegisteredClient, type TokenSet,
} from './_support-tokens.ts';

let server: RunningServer;
let client: RegisteredClient;
let opaque: TokenSet; // userinfo token (opaque)
let structured: TokenSet; // JWT access token for the API (resource indicator)
let serverKeys: JWK[];
const forgedForUserinfo: [string, string][] = [];
const forgedLikeApiTokens: [string, string][] = [];

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Every forgery of the list, with claims copied from a real token. */
async function forge(claims: Record<string, unknown>): Promise<[string, string][]> {
  const es = serverKeys.find((k) => k.alg === 'ES256')!;
  const rs = serverKeys.find((k) => k.alg === 'RS256')!;
  const body = { ...claims, iat: now(), exp: now() + 600 };
  const { privateKey: attackerKey } = await generateKeyPair('ES256');
  const pem = (jwk: JWK) => Buffer.from(createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string);
  const forgeries: [string, string][] = [
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt', kid: es.kid })}.${b64(body)}.`],
    ['alg "None"', `${b64({ alg: 'None', typ: 'at+jwt' })}.${b64(body)}.`],
  ];
  // Header without alg, signed by the attacker (the signature must not matter: no alg, no token).
  const signed = await new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: es.kid }).sign(attackerKey);
  forgeries.push(['missing alg', `${b64({ typ: 'at+jwt', kid: es.kid })}.${signed.split('.')[1]}.${signed.split('.')[2]}`]);
  for (const [label, secret] of [
    ['RS256 public key PEM', pem(rs)],
    ['ES256 public key PEM', pem(es)],
    ['public JWKS JSON', Buffer.from(JSON.stringify({ keys: serverKeys }))],
    ['RS256 public modulus', Buffer.from(rs.n!, 'base64url')],
  ] as const) {
    const kid = label.startsWith('ES') ? es.kid : rs.kid;
    forgeries.push([`HS256 with the ${label}`, await new SignJWT(body).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(secret)]);
  }
  forgeries.push(['unknown kid', await new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker-kid' }).sign(attackerKey)]);
  forgeries.push(['the server\'s kid on another key', signed]);
  forgeries.push(['no kid, another key', await new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).sign(attackerKey)]);
  const { privateKey: ownKey, publicKey: ownPublic } = await generateKeyPair('ES256');
  const ownKid = `attacker-${(await exportJWK(ownPublic)).x!.slice(0, 8)}`;
  forgeries.push(['expired', await new SignJWT({ ...body, iat: now() - 7200, exp: now() - 3600 })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: ownKid }).sign(ownKey)]);
  forgeries.push(['expired, server kid', await new SignJWT({ ...body, iat: now() - 7200, exp: now() - 3600 })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: es.kid }).sign(ownKey)]);
  return forgeries;
}

/** One-character edits of a real opaque token. */
function mutations(token: string): [string, string][] {
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const middle = Math.floor(token.length / 2);
  return [
    ['last character changed', token.slice(0, -1) + flip(token.at(-1)!)],
    ['first character changed', flip(token[0]) + token.slice(1)],
    ['middle character changed', token.slice(0, middle) + flip(token[middle]) + token.slice(middle + 1)],
    ['truncated', token.slice(0, -1)],
    ['one character appended', `${token}A`],
    ['one character prepended', `A${token}`],
    ['case swapped', [...token].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')],
  ];
}

test.before(async () => {
  server = await startServer();
  const api = await createApi(server, 'orders:read');
  client = await createClient(server, ['--api', api.identifier, '--scope', 'orders:read']);
  const user = await createUser(server);
  await adminChangesApplied(server);
  opaque = await signInForTokens(server, client, user, { scope: 'openid email' });
  structured = await signInForTokens(server, client, user, { scope: 'openid orders:read', resource: api.identifier });
  serverKeys = (await (await fetch(`${server.issuer}/jwks`)).json()).keys;

  // For userinfo: what an opaque token stands for, as JWT claims, with the real token as jti.
  forgedForUserinfo.push(...await forge({
    jti: opaque.access_token, sub: user.id, client_id: client.client_id, scope: 'openid email', iss: server.issuer,
  }));
  // For introspection: a real JWT access token's claims, scope widened.
  const { header, payload } = decodeJwt(structured.access_token);
  forgedLikeApiTokens.push(...await forge({ ...payload, scope: 'orders:read orders:write' }));
  const [, , signature] = structured.access_token.split('.');
  forgedLikeApiTokens.push(
    ['real JWT, payload edited', `${b64(header)}.${b64({ ...payload, scope: 'orders:read orders:write' })}.${signature}`],
    ['real JWT, exp extended', `${b64(header)}.${b64({ ...payload, exp: payload.exp + 86400 })}.${signature}`],
    ['real JWT, signature stripped', `${b64(header)}.${b64(payload)}.`],
    ['real JWT, alg switched to none', `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`],
  );
});
test.after.always(async () => {
  await server?.stop();
});

test('C27 the real tokens work (control)', async (t) => {
  const info = await userinfo(server, opaque.access_token);
  t.is(info.status, 200, info.text);
  t.true((await introspect(server, opaque.access_token, credentials(client))).body.active);
  t.is(decodeJwt(structured.access_token).header.alg, 'ES256');
  t.true(forgedForUserinfo.length >= 12);
});

test('C27 forged JWTs get 401 invalid_token at userinfo', async (t) => {
  for (const [label, token] of [...forgedForUserinfo, ...forgedLikeApiTokens]) {
    const result = await userinfo(server, token);
    t.is(result.status, 401, `${label}: ${result.text}`);
    t.is(result.body.error, 'invalid_token', label);
    t.falsy(result.body.sub, label);
  }
});

test('C27 mutated opaque access tokens get 401 invalid_token at userinfo', async (t) => {
  for (const [label, token] of mutations(opaque.access_token)) {
    const result = await userinfo(server, token);
    t.is(result.status, 401, `${label}: ${result.text}`);
    t.is(result.body.error, 'invalid_token', label);
  }
});

test('C27 mutated opaque access and refresh tokens are inactive at introspection', async (t) => {
  for (const [kind, real] of [['access', opaque.access_token], ['refresh', opaque.refresh_token!]]) {
    for (const [label, token] of mutations(real)) {
      const result = await introspect(server, token, credentials(client));
      t.is(result.status, 200, `${kind} ${label}: ${result.text}`);
      t.deepEqual(result.body, { active: false }, `${kind} ${label}`);
    }
  }
});

test('C27 forged JWTs are never reported active at introspection', async (t) => {
  for (const [label, token] of [...forgedForUserinfo, ...forgedLikeApiTokens]) {
    const result = await introspect(server, token, credentials(client));
    t.not(result.status, 500, `${label}: ${result.text}`);
    t.not(result.body.active, true, `${label}: ${result.text}`);
    t.falsy(result.body.sub, label);
    t.falsy(result.body.scope, label);
  }
});

test('C27 forged JWTs get the RFC 7662 answer at introspection: 200 {"active": false}', async (t) => {
  // RFC 7662 §2.2: a token that is not active, or does not exist on this server, MUST get active: false.
  for (const [label, token] of [...forgedForUserinfo, ...forgedLikeApiTokens]) {
    const result = await introspect(server, token, credentials(client));
    t.is(result.status, 200, `${label}: ${result.text}`);
    t.deepEqual(result.body, { active: false }, label);
  }
});
