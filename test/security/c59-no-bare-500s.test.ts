// needs: postgres redis
// C59: malformed or unexpected requests to every route get a 4xx page or
// JSON, never a 5xx and never a hang; a real server error is one pino line
// with the request's id (the answer carries it in X-Request-Id), never a
// stack on stderr, and the user sees the error page, not Koa's bare text.
// The fuzz run is seeded: FUZZ_SEED=<printed seed> replays it exactly, and
// FUZZ_REQUESTS sets how many requests it sends (default 4000).
import test, { type ExecutionContext } from 'ava';
import { randomInt } from 'node:crypto';
import { parseForm, ScriptedBrowser } from '../helpers/browser.ts';
import { rawHttp, type RawResponse } from '../helpers/raw-http.ts';
import { startServer } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/services.ts';
import { mutate, seededRandom, type Mutated, type Template } from './_support-fuzz.ts';
import {
  API_IDENTIFIER, authorizationUrl, basicAuth, codeFlowParams, obtainCode, pkce, signedInBrowser, startAuthzFixture, tokenRequest,
  USER, type AuthzFixture,
} from './_support-authz.ts';
import { createClient, createUser, signInForTokens, userinfo } from './_support-tokens.ts';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 4000);
const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const CONCURRENCY = 4;

let fixture: AuthzFixture;
test.before(async () => {
  fixture = await startAuthzFixture({ spa: true, machine: true });
});
test.after.always(() => fixture?.stop());

const entries = (record: Record<string, string | undefined>): Array<[string, string]> =>
  Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined);

/** One valid request per route, with what it needs: clients, tokens, a session, an interaction in progress. */
async function validRequests(): Promise<Template[]> {
  const issuer = fixture.issuer;
  const { code, verifier, redirectUri } = await obtainCode(fixture);
  const tokens = (await tokenRequest(issuer, fixture.web, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri })).json;
  const web = { authorization: basicAuth(fixture.web) };
  const machine = { authorization: basicAuth(fixture.machine) };

  const session = await signedInBrowser(fixture);
  const account = await session.follow('/account');
  const accountCsrf = /name="csrf" value="([^"]+)"/.exec(account.html)?.[1] ?? '';
  const signedIn = { cookie: session.cookieHeader(), origin: issuer };

  const visitor = new ScriptedBrowser(issuer);
  const login = await visitor.follow(authorizationUrl(issuer, codeFlowParams(fixture, pkce().challenge)));
  const form = parseForm(login.html, /\/login$/);
  const uid = /\/interaction\/([^/]+)\/login$/.exec(form.action)?.[1] ?? 'none';
  const inFlow = { cookie: visitor.cookieHeader(), origin: issuer };
  const step = (action: string, fields: Record<string, string> = {}): Template =>
    ({ method: 'POST', path: `/interaction/${uid}/${action}`, headers: inFlow, body: entries({ ...form.fields, ...fields }) });
  const accountPost = (path: string, fields: Record<string, string> = {}): Template =>
    ({ method: 'POST', path, headers: signedIn, body: entries({ csrf: accountCsrf, ...fields }) });

  return [
    { method: 'GET', path: '/.well-known/openid-configuration' },
    { method: 'GET', path: '/jwks' },
    { method: 'GET', path: '/healthz' },
    { method: 'GET', path: '/static/latchkey.css' },
    { method: 'GET', path: '/auth', query: entries(codeFlowParams(fixture, pkce().challenge, { nonce: 'n-0S6_WzA2Mj' })) },
    { method: 'GET', path: '/auth', query: entries(codeFlowParams(fixture, pkce().challenge, { prompt: 'none' })), headers: signedIn },
    { method: 'GET', path: `/auth/${uid}`, query: [['client_id', fixture.web.client_id]], headers: inFlow },
    { method: 'POST', path: '/token', headers: machine, body: entries({ grant_type: 'client_credentials', resource: API_IDENTIFIER, scope: 'orders:read' }) },
    { method: 'POST', path: '/token', headers: web, body: entries({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri }) },
    { method: 'POST', path: '/token', headers: web, body: entries({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }) },
    { method: 'POST', path: '/token/introspection', headers: web, body: entries({ token: tokens.access_token, token_type_hint: 'access_token' }) },
    { method: 'POST', path: '/token/revocation', headers: web, body: entries({ token: tokens.refresh_token, token_type_hint: 'refresh_token' }) },
    { method: 'GET', path: '/me', headers: { authorization: `Bearer ${tokens.access_token}` } },
    { method: 'GET', path: '/session/end', query: entries({ client_id: fixture.web.client_id, id_token_hint: tokens.id_token }), headers: signedIn },
    { method: 'POST', path: '/session/end/confirm', headers: signedIn, body: entries({ xsrf: 'x', logout: 'yes' }) },
    { method: 'GET', path: `/interaction/${uid}`, headers: inFlow },
    step('login', { email: USER.email, password: 'not the password at all' }),
    step('passkey', { webauthn_response: '{}' }),
    step('second-factor', { code: '123456' }),
    step('enrol/totp', { code: '123456' }),
    step('enrol/webauthn', { webauthn_response: '{}' }),
    step('continue'),
    step('consent'),
    step('abort'),
    { method: 'GET', path: '/account', headers: signedIn },
    { method: 'GET', path: '/account/totp', headers: signedIn },
    { method: 'GET', path: '/account/security-keys', headers: signedIn },
    { method: 'GET', path: '/account/callback', query: [['state', 'abc']], headers: signedIn },
    { method: 'GET', path: '/account/reauth', query: [['next', '/account/totp']], headers: signedIn },
    accountPost('/account/password', { new_password: 'short' }),
    accountPost('/account/totp', { name: 'phone', code: '123456' }),
    accountPost('/account/security-keys', { name: 'key', webauthn_response: '{}' }),
    accountPost('/account/factors/00000000-0000-0000-0000-000000000000/remove'),
    accountPost('/account/devices/00000000-0000-0000-0000-000000000000/forget'),
    accountPost('/account/recovery-codes'),
  ];
}

const describeRequest = (index: number, request: Mutated, answer: string) =>
  `#${index} ${request.method} ${request.target.slice(0, 160)} [${request.mutations.join('; ')}] -> ${answer}`;

/** Lines the server printed that are not pino JSON (a stack on stderr, say), after the start-up banner. */
const strayLines = (output: string) => output.split('\n').filter((line) => line.trim() && !line.startsWith('{') && !/^(Latchkey is running| {2}\w|Next, in another terminal)/.test(line));

test(`C59: ${REQUESTS} mutated valid requests to every route: no 5xx, no hang, nothing on stderr`, async (t) => {
  t.timeout(600_000);
  t.log(`FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} replays this run`);
  const templates = await validRequests();
  const random = seededRandom(SEED);
  const requests = Array.from({ length: REQUESTS }, (_, i) => mutate(templates[i % templates.length], random));
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const index = next++;
      const request = requests[index];
      let response: RawResponse;
      try {
        response = await rawHttp(fixture.server.port, { ...request, timeoutMs: 20_000 });
      } catch (error) {
        failures.push(describeRequest(index, request, (error as Error).message));
        continue;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500) failures.push(describeRequest(index, request, `${response.status} ${response.body.slice(0, 120)}`));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.log(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ')}`);
  t.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${REQUESTS} requests failed (FUZZ_SEED=${SEED})`);
  t.deepEqual(strayLines(fixture.server.output()), [], 'everything the server printed is a pino line');
  t.is((await rawHttp(fixture.server.port, { target: '/healthz' })).status, 200, 'the server is still healthy');
});

test('C59: GET /auth/<anything>?client_id=<registered> without cookies gets the error page, not a bare 500', async (t) => {
  for (const uid of ['anything', 'x'.repeat(300), '%00', '..']) {
    const response = await rawHttp(fixture.server.port, { target: `/auth/${uid}?client_id=${fixture.web.client_id}`, headers: { accept: 'text/html' } });
    t.is(response.status, 400, `/auth/${uid.slice(0, 20)}: ${response.body.slice(0, 200)}`);
    t.regex(response.headers['content-type'] ?? '', /^text\/html/);
    t.regex(response.body, /^<!doctype html>/i, 'the error page');
  }
});

/** The pino lines of one request, by the id its answer carried. */
async function linesOf(t: ExecutionContext, output: () => string, requestId: string | string[] | undefined) {
  t.truthy(requestId, 'the answer carries X-Request-Id');
  let lines: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 50 && !lines.some((line) => Number(line.level) >= 50); i++) {
    lines = output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.request_id === requestId);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return lines;
}

test('C59: a server error (the database gone) is the error page for the user and one pino line with the request id', async (t) => {
  const database = await createTestDatabase();
  // Without the account cache, userinfo must read the database, whose loss is the server
  // error under test (a cached account keeps userinfo working: test/ha/postgres-outage).
  const server = await startServer({ database, env: { ACCOUNT_CACHE_TTL: 'off' } }); // kept on stop: the test drops it itself
  try {
    const client = await createClient(server);
    const user = await createUser(server);
    const tokens = await signInForTokens(server, client, user, { scope: 'openid email' });
    const browser = new ScriptedBrowser(server.issuer);
    const login = await browser.follow(authorizationUrl(server.issuer, {
      client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: client.redirect_uris[0],
      code_challenge: pkce().challenge, code_challenge_method: 'S256',
    }));
    const form = parseForm(login.html, /\/login$/);
    await database.drop();

    // Latchkey's own page: the password step needs the account.
    const page = await rawHttp(server.port, {
      method: 'POST', target: new URL(form.action, server.issuer).pathname,
      headers: { cookie: browser.cookieHeader(), origin: server.issuer, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, email: user.email, password: user.password }).toString(),
    });
    t.true(page.status >= 500, `the sign-in fails (${page.status})`);
    t.regex(page.body, /^<!doctype html>/i, 'the error page, not bare text');
    t.notRegex(page.body, /database|postgres|stack|at \w+ \(/i, 'no internals on the page');
    const pageLines = await linesOf(t, server.output, page.headers['x-request-id']);
    t.true(pageLines.some((line) => Number(line.level) >= 50 && typeof line.err === 'object'), 'one error line with the error, under the request id');

    // oidc-provider's endpoint: userinfo looks the account up.
    const me = await userinfo(server, tokens.access_token);
    t.true(me.status >= 500, `userinfo fails (${me.status})`);
    const meLines = await linesOf(t, server.output, me.headers.get('x-request-id') ?? undefined);
    t.true(meLines.some((line) => Number(line.level) >= 50), 'an error line under the request id');

    t.deepEqual(strayLines(server.output()), [], 'nothing but pino lines: no stack on stderr');
  } finally {
    await server.stop();
    await database.drop().catch(() => {});
  }
});
