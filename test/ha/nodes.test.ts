// needs: postgres redis haproxy
// Three Latchkey nodes behind haproxy (docs/deploy/haproxy.cfg, round robin),
// sharing one Postgres database, one Redis prefix and one LATCHKEY_SECRET:
// whatever node a request lands on, the state of the others is there. Which
// node answered comes from haproxy's access log.
import test from 'ava';
import * as client from 'openid-client';
import { ScriptedBrowser, parseForm, signIn } from '../helpers/browser.ts';
import { startLatchkeyNodes, type LatchkeyNodes } from '../helpers/latchkey-nodes.ts';
import type { LoggedRequest } from '../helpers/haproxy.ts';
import type { RunningServer } from '../helpers/server-process.ts';
import { authorizationRequest, createCodeClient, createUser, oauthError, type TestUser } from '../e2e/support.ts';
import { createApi, directToken, kidOf, machineClient, publishedKids } from './nodes-support.ts';

let nodes: LatchkeyNodes;
let web: client.Configuration;
let user: TestUser;

/** What discovery and the CLI helpers need of a server: the issuer, and the shared admin CLI. */
const server = () => ({ issuer: nodes.issuer, admin: nodes.admin }) as unknown as RunningServer;

test.before(async () => {
  nodes = await startLatchkeyNodes(3);
  await createApi(nodes);
  const created = await createCodeClient(server(), 'HA web', ['--grant', 'refresh_token', '--first-party']);
  web = await client.discovery(new URL(nodes.issuer), created.client_id, undefined, client.ClientSecretBasic(created.client_secret!), { execute: [client.allowInsecureRequests] });
  user = await createUser(server(), 'ha');
});

test.after.always(async () => {
  await nodes?.stop();
});

/** The requests haproxy logs while `work` runs. */
async function logged<T>(work: () => Promise<T>): Promise<{ result: T; requests: LoggedRequest[] }> {
  // haproxy logs a request once it is answered: the lines of earlier requests may still be on their way.
  const settled = () => new Promise((resolve) => setTimeout(resolve, 150));
  await settled();
  const before = nodes.lb.requests().length;
  const result = await work();
  await settled();
  return { result, requests: nodes.lb.requests().slice(before) };
}

async function signInThroughLb(browser = new ScriptedBrowser(nodes.issuer)) {
  const request = await authorizationRequest(web, { scope: 'openid email' });
  const callback = await signIn(browser, request.url.toString(), { email: user.email, password: user.password });
  const tokens = await client.authorizationCodeGrant(web, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  return tokens;
}

test.serial('a sign-in started on one node finishes on another', async (t) => {
  const { result: tokens, requests } = await logged(() => signInThroughLb());
  t.is(tokens.claims()!.sub, user.id);
  const pages = requests.filter((r) => r.path.startsWith('/auth') || r.path.startsWith('/interaction'));
  t.log(pages.map((r) => `${r.method} ${r.path.split('?')[0]} -> ${r.node} ${r.status}`).join('\n'));
  t.true(pages.length >= 3, 'authorization, login and resume went through haproxy');
  t.is(new Set(pages.map((r) => r.node)).size, 3, 'the pages of one sign-in were served by all three nodes');
  t.not(pages[0].node, pages.at(-1)!.node, 'started and finished on different nodes');
  for (const [i, r] of pages.entries()) if (i > 0) t.not(r.node, pages[i - 1].node, 'consecutive steps on different nodes');
  t.true(requests.every((r) => r.status < 500));
});

test.serial('a refresh token issued by one node rotates on the others; the used one is refused everywhere', async (t) => {
  const first = await signInThroughLb();
  const { result, requests } = await logged(async () => {
    const second = await client.refreshTokenGrant(web, first.refresh_token!);
    const third = await client.refreshTokenGrant(web, second.refresh_token!);
    const fourth = await client.refreshTokenGrant(web, third.refresh_token!);
    return { second, third, fourth };
  });
  const refreshes = requests.filter((r) => r.path === '/token');
  t.is(refreshes.length, 3);
  t.is(new Set(refreshes.map((r) => r.node)).size, 3, `each refresh on another node: ${refreshes.map((r) => r.node).join(', ')}`);
  t.true(refreshes.every((r) => r.status === 200));
  t.is((await client.fetchUserInfo(web, result.fourth.access_token, user.id)).email, user.email);
  // A rotated token is dead on every node (the next three requests land on the three nodes).
  for (let i = 0; i < 3; i++) t.is(await oauthError(client.refreshTokenGrant(web, result.third.refresh_token!)), 'invalid_grant');
});

test.serial('a client created with the CLI works on every node within 2 s', async (t) => {
  const machine = await machineClient(nodes, 'HA machine');
  const created = performance.now();
  const workedAfter: number[] = [];
  await Promise.all(nodes.ports.map(async (port, i) => {
    for (;;) {
      const answer = await directToken(nodes, port, machine);
      if (answer.status === 200) {
        workedAfter[i] = performance.now() - created;
        return;
      }
      t.is(answer.status, 401, `node${i + 1} refuses the unknown client (${JSON.stringify(answer.body)})`);
      if (performance.now() - created > 2000) throw new Error(`node${i + 1}: the new client still refused after 2 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }));
  t.log(`the new client got a token from each node after ${workedAfter.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
  t.true(Math.max(...workedAfter) <= 2000);
});

test.serial('failed passwords are counted across nodes: the account is throttled on all of them', async (t) => {
  const victim = await createUser(server(), 'ha-throttle');
  const browser = new ScriptedBrowser(nodes.issuer);
  const request = await authorizationRequest(web, { scope: 'openid' });
  const page = await browser.follow(request.url.toString());
  const { action, fields } = parseForm(page.html, /\/login$/);
  const attempt = (password: string) => browser.request(action, { method: 'POST', form: { ...fields, email: victim.email, password } });
  const { result: statuses, requests } = await logged(async () => {
    const seen: number[] = [];
    for (let i = 0; i < 9 && !seen.includes(429); i++) seen.push((await attempt(`wrong-${i}`)).status);
    return seen;
  });
  const posts = requests.filter((r) => r.method === 'POST');
  t.log(`wrong passwords: ${statuses.join(', ')} on ${posts.map((r) => r.node).join(', ')}`);
  t.deepEqual(statuses, [401, 401, 401, 401, 401, 429], 'the fifth failure, whichever node, starts the block (5 per account and address)');
  t.is(new Set(posts.map((r) => r.node)).size, 3, 'the failures were spread over the three nodes');
  // The block holds on every node, the right password included.
  const { result: blocked, requests: blockedOn } = await logged(async () => Promise.all([0, 1, 2].map(() => attempt(victim.password).then((r) => r.status))));
  t.deepEqual(blocked, [429, 429, 429]);
  t.is(new Set(blockedOn.map((r) => r.node)).size, 3);
});

test.serial('keys rotate: every node publishes the new keys and signs with them', async (t) => {
  const machine = await machineClient(nodes, 'HA rotation');
  const rotated = await nodes.admin<{ keys: { kid: string; alg: string }[] }>(['keys', 'rotate']);
  const es256 = rotated.keys.find((key) => key.alg === 'ES256')!.kid;
  const started = performance.now();
  const pickedUp: number[] = [];
  await Promise.all(nodes.ports.map(async (port, i) => {
    for (;;) {
      const answer = await directToken(nodes, port, machine);
      if (answer.status === 200 && kidOf(answer.body.access_token) === es256) {
        pickedUp[i] = performance.now() - started;
        t.true((await publishedKids(nodes, port)).includes(es256), `node${i + 1} publishes the key it signs with`);
        return;
      }
      if (performance.now() - started > 5000) throw new Error(`node${i + 1} does not sign with ${es256} after 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }));
  t.log(`each node signed with the new key after ${pickedUp.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
  for (const key of rotated.keys) {
    for (const port of nodes.ports) t.true((await publishedKids(nodes, port)).includes(key.kid));
  }
});

test.serial('kill -9 of a node mid-sign-in: the user finishes on another node', async (t) => {
  const browser = new ScriptedBrowser(nodes.issuer);
  const request = await authorizationRequest(web, { scope: 'openid email' });
  const { result: page, requests } = await logged(() => browser.follow(request.url.toString()));
  t.regex(page.html, /name="password"/);
  // Round robin: the node after the one that served the login page would take the password.
  const last = Number(requests.at(-1)!.node.replace('node', ''));
  const victim = last % 3;
  await nodes.killNode(victim);
  const killedAt = performance.now();
  const { result: callback, requests: after } = await logged(() => signIn(browser, page.url, { email: user.email, password: user.password }));
  const tokens = await client.authorizationCodeGrant(web, callback, {
    pkceCodeVerifier: request.codeVerifier, expectedState: request.state, expectedNonce: request.nonce, idTokenExpected: true,
  });
  t.is(tokens.claims()!.sub, user.id);
  t.log(after.map((r) => `${r.method} ${r.path.split('?')[0]} -> ${r.node} ${r.status} retries ${r.retries}`).join('\n'));
  t.true(after.every((r) => r.status < 500 && r.node !== `node${victim + 1}`), 'no request failed or was answered by the dead node');
  t.true(after.some((r) => r.retries.startsWith('+')), 'haproxy redispatched the request aimed at the dead node');
  await nodes.lb.waitFor([`node${victim + 1}`], 'DOWN', 5000);
  t.log(`haproxy had node${victim + 1} DOWN ${Math.round(performance.now() - killedAt)} ms after the kill (the sign-in was not held up meanwhile)`);
  await nodes.startNode(victim);
  await nodes.lb.waitFor([`node${victim + 1}`], 'UP');
});
