// needs: postgres redis
// C58 routing and guards agree: every route, spelled in upper case, in mixed
// case, with a trailing slash or a percent-encoded letter, either 404s or gets the same answer as its
// canonical path (the sign-in redirect for /account pages without a session,
// 403 for a cross-site POST, 403 for a POST without its CSRF token), and
// never a 5xx. Latchkey's own routes are read from its routers' stacks (a new
// route is walked without editing this file); oidc-provider's endpoints are
// listed below. Each spelling is sent as GET and POST, without cookies and
// from a browser signed in to /account with a sign-in pending, each with a
// same-origin and a cross-site Origin. No request carries a CSRF token, so
// the walk changes nothing.
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { accountRouter } from '../../server/account/routes.ts';
import { interactionRouter } from '../../server/interactions/routes.ts';
import { ACCOUNT_CALLBACK_PATH } from '../../server/oidc/account-client.ts';
import { INTERACTION_PATH } from '../../server/oidc/configuration.ts';
import { concurrencyLimit, describe, isPasswordStep, newUser, startMfaFixture, type MfaBrowser, type MfaFixture } from './_support-mfa.ts';
import { accountBrowser, beginSignIn } from './_support-mfa-flow.ts';

const EVIL = 'https://evil.example';

/** oidc-provider's endpoints (and the health check), which Latchkey's routers do not list. */
const PROVIDER_PATHS = [
  '/auth', '/token', '/me', '/session/end', '/session/end/confirm', '/.well-known/openid-configuration', '/jwks',
  '/token/introspection', '/token/revocation', '/healthz',
];

interface Route {
  /** The path pattern as registered, e.g. /account/factors/:id/remove. */
  pattern: string;
  /** Registered methods (HEAD aside). */
  methods: string[];
}

/**
 * The routes a router registered, from its stack. Building the routers
 * registers their routes and reads only these settings; no handler runs.
 */
function routesOf(router: { stack: { methods: string[]; path: string | RegExp }[] }): Route[] {
  const routes = new Map<string, Route>();
  for (const layer of router.stack.filter((l) => l.methods.length > 0)) {
    if (typeof layer.path !== 'string') throw new Error(`a route registered as a RegExp cannot be walked: ${layer.path}`);
    const route = routes.get(layer.path) ?? { pattern: layer.path, methods: [] };
    route.methods.push(...layer.methods.filter((m) => m !== 'HEAD'));
    routes.set(layer.path, route);
  }
  return [...routes.values()];
}

const stubDependencies = (issuer: string) => ({ config: { issuer }, csrfKey: randomBytes(32) }) as never;
const accountRoutes = (issuer: string) => routesOf(accountRouter(stubDependencies(issuer)));
const interactionRoutes = (issuer: string) => routesOf(interactionRouter(stubDependencies(issuer)));

// ------------------------------------------------------------ spellings

const isParam = (segment: string) => /^[:*]/.test(segment);
const upperFirstLetter = (segment: string) => segment.replace(/[a-z]/, (c) => c.toUpperCase());

/** Other spellings of a pattern: the case of its fixed segments changed (never a parameter's), a trailing slash, a percent-encoded letter. */
function spellings(pattern: string): { name: string; pattern: string }[] {
  const segments = pattern.split('/').slice(1);
  const fixed = segments.map((s, i) => (isParam(s) ? -1 : i)).filter((i) => i >= 0);
  const recase = (change: (segment: string, index: number) => string) =>
    `/${segments.map((s, i) => (isParam(s) ? s : change(s, i))).join('/')}`;
  const candidates = [
    { name: 'upper case', pattern: recase((s) => s.toUpperCase()) },
    { name: 'mixed case (first segment)', pattern: recase((s, i) => (i === fixed[0] ? upperFirstLetter(s) : s)) },
    { name: 'mixed case (last segment)', pattern: recase((s, i) => (i === fixed.at(-1) ? upperFirstLetter(s) : s)) },
    { name: 'trailing slash', pattern: `${pattern}/` },
    // %61 is "a": a router that decoded before matching, but guards that did not, would disagree.
    { name: 'percent-encoded letter', pattern: recase((s, i) => (i === fixed[0] ? s.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`) : s)) },
  ];
  const seen = new Set([pattern]);
  return candidates.filter((c) => !seen.has(c.pattern) && seen.add(c.pattern));
}

// ------------------------------------------------------------ browsers and answers

let fixture: MfaFixture;
/** Signed in to /account (no second factor, so the session is fresh) with a sign-in pending (prompt=login). */
let signedIn: MfaBrowser;
/** The pending sign-in's interaction uid (its cookie is in `signedIn`). */
let interactionUid: string;

test.before(async () => {
  fixture = await startMfaFixture();
  const user = await newUser(fixture);
  ({ browser: signedIn } = await accountBrowser(fixture, user));
  const { step } = await beginSignIn(fixture, signedIn, { prompt: 'login' });
  if (!isPasswordStep(step)) throw new Error(`prompt=login should show the password page, got ${describe(step)}`);
  interactionUid = /\/interaction\/([^/?#]+)/.exec(step.url)![1];
  // The logout form's secret is then in the session: POST /session/end/confirm
  // without it is the CSRF refusal from the first request on.
  await signedIn.follow('/session/end');
});
test.after.always(async () => {
  await fixture?.stop();
});

interface Scenario {
  name: string;
  /** A browser for one request (a copy: no request changes the next one's cookies). */
  browser: () => MfaBrowser;
  headers: Record<string, string>;
}

const scenarios = (): Scenario[] => [
  { name: 'no cookies', browser: () => fixture.browser(), headers: {} },
  { name: 'no cookies, cross-site Origin', browser: () => fixture.browser(), headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } },
  { name: 'signed in, no CSRF token', browser: () => signedIn.clone(), headers: {} },
  { name: 'signed in, cross-site Origin', browser: () => signedIn.clone(), headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } },
];

/** A pattern with its parameters filled: the pending sign-in's uid, anything for the rest. */
const pathOf = (pattern: string) => pattern.replace(/[:*]([A-Za-z_]+)/g, (_m, name: string) => (name === 'uid' ? interactionUid : 'c58-no-such-id'));

/** Status, and where a redirect goes (path only: state and nonces differ per request). */
async function answer(scenario: Scenario, method: string, path: string): Promise<string> {
  const response = await scenario.browser().request(path, { method, headers: scenario.headers, ...(method === 'POST' ? { form: {} } : {}) });
  await response.body?.cancel();
  const location = response.headers.get('location');
  return `${response.status}${location ? ` -> ${new URL(location, fixture.issuer).pathname}` : ''}`;
}

/**
 * Sends every spelling of every pattern as GET and POST in every scenario;
 * returns each request whose answer is a 5xx, or neither a 404 nor the
 * canonical path's answer. One request at a time, each spelling right after
 * its canonical path: a few GETs change the session on the server (GET
 * /session/end stores the logout form's secret), so no request may slip in
 * between the two answers compared.
 */
async function walk(patterns: string[]): Promise<{ problems: string[]; requests: number }> {
  const problems: string[] = [];
  let requests = 0;
  for (const scenario of scenarios()) {
    for (const pattern of patterns) {
      for (const method of ['GET', 'POST']) {
        const canonical = await answer(scenario, method, pathOf(pattern));
        requests++;
        if (canonical.startsWith('5')) problems.push(`${method} ${pattern} (${scenario.name}): ${canonical}`);
        for (const spelling of spellings(pattern)) {
          const got = await answer(scenario, method, pathOf(spelling.pattern));
          requests++;
          if (got.startsWith('5') || (got !== '404' && got !== canonical)) {
            problems.push(`${method} ${spelling.pattern} [${spelling.name}] (${scenario.name}): ${got}, but ${pattern} answers ${canonical}`);
          }
        }
      }
    }
  }
  return { problems, requests };
}

function assertNoProblems(t: ExecutionContext, result: { problems: string[]; requests: number }, what: string) {
  t.log(`${result.requests} requests`);
  t.deepEqual(result.problems, [], `${what}: ${result.problems.length} request(s) answered differently from the canonical path:\n${result.problems.join('\n')}`);
}

// ------------------------------------------------------------ tests

test('C58: the walk reads every route of Latchkey\'s routers from the routers themselves', (t) => {
  const account = accountRoutes(fixture.issuer).map((r) => r.pattern);
  const interaction = interactionRoutes(fixture.issuer).map((r) => r.pattern);
  t.true(account.includes('/account'), account.join(' '));
  t.true(account.includes(ACCOUNT_CALLBACK_PATH), account.join(' '));
  t.true(interaction.includes(`${INTERACTION_PATH}/:uid`), interaction.join(' '));
  t.true(account.length + interaction.length >= 10, `${account.length + interaction.length} routes`);
  for (const pattern of [...account, ...interaction]) t.true(spellings(pattern).length >= 2, `${pattern} has other spellings to try`);
});

test('C58: Latchkey\'s own routes (/account, /interaction) in upper case, mixed case or with a trailing slash: never 5xx, 404 or the canonical path\'s answer', async (t) => {
  t.timeout(180_000);
  const patterns = [...accountRoutes(fixture.issuer), ...interactionRoutes(fixture.issuer)].map((r) => r.pattern);
  assertNoProblems(t, await walk(patterns), 'Latchkey routes');
});

test('C58: oidc-provider\'s endpoints in upper case, mixed case or with a trailing slash: never 5xx, 404 or the canonical path\'s answer', async (t) => {
  t.timeout(180_000);
  assertNoProblems(t, await walk(PROVIDER_PATHS), 'oidc-provider endpoints');
});

test('C58: the canonical paths answer with their guards: sign-in for /account pages without a session, 403 for a cross-site or token-less form POST', async (t) => {
  t.timeout(120_000);
  const [anonymous, anonymousCrossSite, noToken, signedInCrossSite] = scenarios();
  const checks: Promise<void>[] = [];
  const limit = concurrencyLimit(8);
  const expect = (scenario: Scenario, method: string, pattern: string, expected: string) => checks.push(limit(async () => {
    const got = await answer(scenario, method, pathOf(pattern));
    t.is(got, expected, `${method} ${pattern} (${scenario.name})`);
  }));
  // Controls: the signed-in browser really has a session and a pending sign-in (so its 403s come from the CSRF check).
  expect(noToken, 'GET', '/account', '200');
  expect(noToken, 'GET', `${INTERACTION_PATH}/:uid`, '200');
  for (const route of accountRoutes(fixture.issuer)) {
    // The callback ends a sign-in rather than needing one (C30 covers it).
    if (route.methods.includes('GET') && route.pattern !== ACCOUNT_CALLBACK_PATH) {
      for (const scenario of [anonymous, anonymousCrossSite]) expect(scenario, 'GET', route.pattern, '303 -> /auth');
    }
  }
  for (const route of [...accountRoutes(fixture.issuer), ...interactionRoutes(fixture.issuer)]) {
    if (!route.methods.includes('POST')) continue;
    for (const scenario of [anonymousCrossSite, noToken, signedInCrossSite]) expect(scenario, 'POST', route.pattern, '403');
  }
  await Promise.all(checks);
  t.true(checks.length >= 20, `${checks.length} checks`);
});
