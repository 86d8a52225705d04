// needs: postgres redis
// The access log and request ids on the real server (LOG_LEVEL=info): one
// line per request with the route template oidc-provider's or Latchkey's
// router matched, the client the token endpoint identified, and the id the
// answer carries; the interaction uid and the query string (state, code,
// login_hint) appear in no access line; ACCESS_LOG=false writes none.
import test from 'ava';
import { basicAuth } from '../helpers/oidc-http.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createCodeClient, eventually, REDIRECT_URI } from './support.ts';

const API = 'https://access-log.internal';

type Line = Record<string, unknown>;
const linesOf = (server: RunningServer): Line[] =>
  server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);

/** The access line of the request whose answer carried `requestId`. */
const accessLine = (server: RunningServer, requestId: string | null) => eventually(`the access line of ${requestId}`, async () =>
  linesOf(server).find((line) => line.msg === 'request' && line.request_id === requestId));

test('one access line per request: route template, status, duration, client and request id, never the path\'s uid or the query', async (t) => {
  const server = await startServer({ env: { LOG_LEVEL: 'info' } });
  t.teardown(() => server.stop());
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'logs:read']);
  const machine = await server.admin<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'access-log machine', '--grant', 'client_credentials', '--api', API, '--scope', 'logs:read']);
  const browserClient = await createCodeClient(server, 'access-log web');

  // The token fast path: client_id is known once the client authenticated.
  const token = await eventually('a machine token', async () => {
    const response = await fetch(`${server.origin}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(machine.client_id, machine.client_secret), 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': `access-token-${Date.now()}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'logs:read', resource: API }),
    });
    return response.ok ? response : undefined;
  });
  const tokenId = token.headers.get('x-request-id');
  t.regex(tokenId ?? '', /^access-token-\d+$/, 'the incoming X-Request-Id is kept');
  const tokenLine = await accessLine(server, tokenId);
  t.like(tokenLine, { level: 30, method: 'POST', route: '/token', status: 200, client_id: machine.client_id, ip: '127.0.0.1' });
  t.true(typeof tokenLine.duration_ms === 'number');

  // oidc-provider's /auth (through the Koa app) redirects to Latchkey's interaction page.
  const secrets = { state: 'st4te-value-9c1', login_hint: 'hinted-user@example.com', nonce: 'n0nce-value-2b7' };
  const auth = await fetch(`${server.origin}/auth?${new URLSearchParams({
    client_id: browserClient.client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWvY1rXDa7Kzw', code_challenge_method: 'S256', ...secrets,
  })}`, { redirect: 'manual' });
  t.is(auth.status, 303);
  const interaction = new URL(auth.headers.get('location')!, server.origin);
  const uid = interaction.pathname.split('/').at(-1)!;
  t.regex(interaction.pathname, /^\/interaction\/[\w-]{10,}$/);
  const page = await fetch(interaction, { headers: { cookie: auth.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') } });
  t.is(page.status, 200);

  t.like(await accessLine(server, auth.headers.get('x-request-id')), { method: 'GET', route: '/auth', status: 303, client_id: browserClient.client_id });
  t.like(await accessLine(server, page.headers.get('x-request-id')), { method: 'GET', route: '/interaction/:uid', status: 200 });
  const missing = await fetch(`${server.origin}/no/such/page?token=abc`);
  t.like(await accessLine(server, missing.headers.get('x-request-id')), { route: 'unmatched', status: 404 });

  const access = JSON.stringify(linesOf(server).filter((line) => line.msg === 'request'));
  for (const value of [uid, ...Object.values(secrets), 'token=abc', machine.client_secret]) t.false(access.includes(value), `${value} is in no access line`);
});

test('ACCESS_LOG=false: no access lines, and request ids still on the answers', async (t) => {
  const server = await startServer({ env: { LOG_LEVEL: 'info', ACCESS_LOG: 'false' } });
  t.teardown(() => server.stop());
  const response = await fetch(`${server.origin}/.well-known/openid-configuration`, { headers: { 'x-request-id': 'quiet-request-1' } });
  t.is(response.status, 200);
  t.is(response.headers.get('x-request-id'), 'quiet-request-1');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.deepEqual(linesOf(server).filter((line) => line.msg === 'request'), []);
});
