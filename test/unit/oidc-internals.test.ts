// Pins every oidc-provider internal that server/oidc/internals.ts relies on
// against the installed oidc-provider: each error text is provoked from a
// real Provider and compared with our constant, and each undocumented field
// is read from what a real request made. An oidc-provider upgrade that
// changes one fails here.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair } from 'jose';
import Koa from 'koa';
import Provider, { type ErrorOut } from 'oidc-provider';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import {
  interactionIssuedAt, PROVIDER_TEXT, providerRouteTemplate, refreshChainIssuedAt, refusedStructuredToken, sessionOfRequest, type RefusedStructuredToken,
} from '../../server/oidc/internals.ts';

const REDIRECT = 'https://rp.example/cb';
const SECRET = 'a-client-secret';
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

const rendered: ErrorOut[] = [];
const refusals: (RefusedStructuredToken | undefined)[] = [];
const refreshIssuedAt: (number | undefined)[] = [];
const templates: (string | undefined)[] = [];
const seen: { interactionIat?: number; sessionAccountId?: string } = {};
let provider: Provider;
let server: Server;
let origin: string;

test.before(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  provider = new Provider('http://localhost', {
    clients: [
      { client_id: 'app', client_secret: SECRET, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [REDIRECT] },
      { client_id: 'machine', client_secret: SECRET, grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'k', alg: 'RS256', use: 'sig' }] },
    adapter: createAdapterFactory({ keyPrefix: 'test:' }),
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    cookies: { keys: ['a-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { logoutSource: async (ctx, form) => { ctx.body = form; } },
    },
    scopes: ['openid', 'offline_access'],
    issueRefreshToken: async () => true,
    rotateRefreshToken: true,
    // Something inside oidc-provider failing: its own server_error answer.
    extraTokenClaims: (ctx) => { if (ctx.oidc.client?.clientId === 'machine') throw new Error('boom'); return undefined; },
    ttl: {
      Session: 3600,
      AccessToken: 600,
      IdToken: 600,
      Interaction: 600,
      Grant: 3600,
      ClientCredentials: 600,
      RefreshToken: (_ctx, token) => { refreshIssuedAt.push(refreshChainIssuedAt(token)); return 3600; },
    },
    renderError: async (ctx, out) => { rendered.push(out); ctx.body = 'error'; },
  });
  provider.use(async (ctx, next) => {
    await next();
    templates.push(providerRouteTemplate(ctx));
    if (ctx.path.startsWith('/token/')) refusals.push(refusedStructuredToken(ctx));
  });
  // Latchkey's own routes: a Koa app of their own, as in server/app.ts.
  const own = new Koa();
  own.use(async (ctx) => {
    if (ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.prompt.name === 'login') {
        seen.interactionIat = interactionIssuedAt(details);
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: 'alice' } }, { mergeWithLastSubmission: false });
      } else {
        const grant = new provider.Grant({ accountId: 'alice', clientId: details.params.client_id as string });
        grant.addOIDCScope(details.params.scope as string);
        await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
      }
      ctx.respond = false;
    } else {
      seen.sessionAccountId = (await sessionOfRequest(provider, ctx)).accountId;
      ctx.body = 'ok';
    }
  });
  const ownCallback = own.callback();
  const providerCallback = provider.callback();
  server = createServer((req, res) => void (/^\/(interaction|account)\//.test(req.url!) ? ownCallback(req, res) : providerCallback(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => { server?.close(); });

/** A browser: keeps cookies, follows redirects on our origin only. */
async function browse(path: string, jar: Map<string, string>, init: RequestInit = {}): Promise<Response> {
  let url = new URL(path, origin);
  for (let hops = 0; hops < 10; hops += 1) {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) jar.set(name, value); else jar.delete(name);
    }
    const location = response.headers.get('location');
    if (!location || !(response.status >= 300 && response.status < 400)) return response;
    url = new URL(location, url);
    if (url.origin !== origin) return response;
    init = {};
  }
  throw new Error(`redirect loop from ${path}`);
}

/** Signs alice in as the app through the interaction route above; the authorization code. */
async function signIn(jar: Map<string, string>): Promise<string | null> {
  const query = new URLSearchParams({
    client_id: 'app', response_type: 'code', redirect_uri: REDIRECT, scope: 'openid offline_access', prompt: 'consent',
    code_challenge: CHALLENGE, code_challenge_method: 'S256',
  });
  const back = await browse(`/auth?${query}`, jar);
  return new URL(back.headers.get('location') ?? '', origin).searchParams.get('code');
}

const tokenRequest = (body: Record<string, string>, authorization?: string) => fetch(`${origin}/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
  body: new URLSearchParams(body),
});

test.serial('grantTypeNotAllowed is what /token says to a client using a grant it is not registered for', async (t) => {
  const response = await tokenRequest({ grant_type: 'client_credentials' }, basic('app', SECRET));
  t.deepEqual(await response.json(), { error: 'invalid_request', error_description: PROVIDER_TEXT.grantTypeNotAllowed });
});

test.serial('noClientAuthentication is what /token says to a request without client authentication', async (t) => {
  const response = await tokenRequest({ grant_type: 'client_credentials' });
  t.deepEqual(await response.json(), { error: 'invalid_request', error_description: PROVIDER_TEXT.noClientAuthentication });
});

test.serial('basicWithoutSecret is what /token says to Basic authentication with an empty secret', async (t) => {
  const response = await tokenRequest({ grant_type: 'client_credentials' }, basic('machine', ''));
  t.deepEqual(await response.json(), { error: 'invalid_request', error_description: PROVIDER_TEXT.basicWithoutSecret });
});

test.serial('serverError is what oidc-provider says when something inside it throws', async (t) => {
  const response = await tokenRequest({ grant_type: 'client_credentials' }, basic('machine', SECRET));
  t.is(response.status, 500);
  t.deepEqual(await response.json(), { error: 'server_error', error_description: PROVIDER_TEXT.serverError });
});

test.serial('responseTypeNotAllowed is what /auth says to a client using a response type it is not registered for', async (t) => {
  const query = new URLSearchParams({ client_id: 'app', response_type: 'none', redirect_uri: REDIRECT, scope: 'openid', code_challenge: CHALLENGE, code_challenge_method: 'S256' });
  const response = await fetch(`${origin}/auth?${query}`, { redirect: 'manual' });
  const location = new URL(response.headers.get('location') ?? '', origin);
  t.is(location.searchParams.get('error'), 'invalid_request');
  t.is(location.searchParams.get('error_description'), PROVIDER_TEXT.responseTypeNotAllowed);
});

test.serial('xsrfInvalid is what a logout confirmation with a wrong xsrf token is refused with', async (t) => {
  const jar = new Map<string, string>();
  await signIn(jar);
  const form = await (await browse('/session/end', jar)).text();
  t.regex(form, /name="xsrf"/, 'the logout form carries its xsrf token');
  rendered.length = 0;
  await browse('/session/end/confirm', jar, {
    method: 'POST',
    // A browser's form post: answered with renderError, whose `out` pages.ts reads.
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams({ xsrf: 'wrong', logout: 'yes' }),
  });
  t.deepEqual(rendered.map((out) => out.error_description), [PROVIDER_TEXT.xsrfInvalid]);
});

test.serial('refusedStructuredToken reads the caller, the token and the route after oidc-provider refused a JWT', async (t) => {
  const jwt = `${Buffer.from('{"alg":"ES256","typ":"at+jwt"}').toString('base64url')}.e30.c2ln`;
  for (const route of ['introspection', 'revocation']) {
    refusals.length = 0;
    const response = await fetch(`${origin}/token/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('app', SECRET) },
      body: new URLSearchParams({ token: jwt }),
    });
    t.is(response.status, 400);
    const [refusal] = refusals;
    t.is(refusal?.oidc.route, route);
    t.is(refusal?.caller.clientId, 'app');
    t.is(refusal?.token, jwt);
  }
  // Anything else is not a refusal to take over.
  refusals.length = 0;
  await fetch(`${origin}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: jwt }) });
  t.deepEqual(refusals, [undefined]);
});

test.serial('a sign-in: the interaction\'s iat, the session on our own Koa context, and iiat across a refresh token rotation', async (t) => {
  const jar = new Map<string, string>();
  const before = Math.floor(Date.now() / 1000);
  const code = await signIn(jar);
  t.truthy(code, 'the sign-in ended with a code');
  t.true(seen.interactionIat !== undefined && seen.interactionIat >= before && seen.interactionIat <= Date.now() / 1000);

  await browse('/account/', jar);
  t.is(seen.sessionAccountId, 'alice');
  await browse('/account/', new Map());
  t.is(seen.sessionAccountId, undefined, 'no cookie, no account');

  refreshIssuedAt.length = 0;
  const first = await (await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: VERIFIER }, basic('app', SECRET))).json() as { refresh_token: string };
  // Rotate in a later second, so the rotated token's own iat differs from the first's.
  await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
  const second = await (await tokenRequest({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, basic('app', SECRET))).json() as { refresh_token?: string };
  t.truthy(second.refresh_token, 'the refresh token was rotated');
  const [firstIat, rotatedIat] = refreshIssuedAt;
  t.is(refreshIssuedAt.length, 2);
  t.true(firstIat !== undefined && firstIat >= before);
  t.is(rotatedIat, firstIat, 'the rotated token carries the first token\'s iat');
});

test.serial('providerRouteTemplate is the path template of the oidc-provider route that answered', async (t) => {
  templates.length = 0;
  await tokenRequest({ grant_type: 'client_credentials' });
  await fetch(`${origin}/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
  await fetch(`${origin}/.well-known/openid-configuration`);
  await signIn(new Map());
  await fetch(`${origin}/no-such-route/123`);
  t.deepEqual(templates.slice(0, 3), ['/token', '/token/introspection', '/.well-known/openid-configuration']);
  t.true(templates.includes('/auth'));
  t.true(templates.includes('/auth/:uid'), 'the resume route, with its uid as a parameter');
  t.is(templates.at(-1), undefined, 'no route matched');
});

test.serial('only server/oidc/internals.ts imports oidc-provider/lib/...', (t) => {
  const server = fileURLToPath(new URL('../../server/', import.meta.url));
  const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
  const deep = files(server).filter((file) => /from 'oidc-provider\/|import\('oidc-provider\//.test(readFileSync(file, 'utf8')));
  t.deepEqual(deep.filter((file) => !file.endsWith('server/oidc/internals.ts')), []);
});
