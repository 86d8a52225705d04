// needs: postgres redis haproxy
// Zero-downtime rolling restart behind haproxy (docs/deploy/haproxy.cfg):
// under client_credentials and refresh load, the three nodes are restarted
// one by one (SIGTERM, wait for the exit, start again on the same port, wait
// until haproxy has it UP again) and not one request may fail. In the middle
// of the roll, `keys rotate --activate-in` publishes new keys: every node
// must publish them before any node signs with them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import test from 'ava';
import * as jose from 'jose';
import * as client from 'openid-client';
import { startLatchkeyNodes, type LatchkeyNodes } from '../helpers/latchkey-nodes.ts';
import { basicAuth } from '../helpers/oidc-http.ts';
import type { RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser } from '../e2e/support.ts';
import { API, clientCredentialsForm, createApi, kidOf, machineClient, publishedKids } from './nodes-support.ts';

let nodes: LatchkeyNodes;

test.before(async () => {
  nodes = await startLatchkeyNodes(3);
});

test.after.always(async () => {
  await nodes?.stop();
});

interface Answer { status: number; body: Record<string, any>; sentAt: number; receivedAt: number }

/** POST /token through haproxy on this worker's keep-alive connection. */
function post(agent: Agent, authorization: string, form: string): Promise<Answer> {
  const sentAt = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request({
      host: '127.0.0.1', port: nodes.lb.port, agent, method: 'POST', path: '/token',
      headers: { host: new URL(nodes.issuer).host, 'content-type': 'application/x-www-form-urlencoded', authorization },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        let body: Record<string, any>;
        try {
          body = JSON.parse(text);
        } catch {
          body = { unparsed: text.slice(0, 200) };
        }
        resolve({ status: response.statusCode!, body, sentAt, receivedAt: performance.now() });
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(form);
  });
}

/** The peak resident set size of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kib) / 1024);
}

test('rolling restart under client_credentials and refresh load: no request fails; new keys are published everywhere before they sign', async (t) => {
  t.timeout(180_000);
  const server = { issuer: nodes.issuer, admin: nodes.admin } as unknown as RunningServer;
  await createApi(nodes);
  const machine = await machineClient(nodes, 'Rolling machine');
  const created = await createCodeClient(server, 'Rolling web', ['--grant', 'refresh_token', '--first-party']);
  const web = await client.discovery(new URL(nodes.issuer), created.client_id, undefined, client.ClientSecretBasic(created.client_secret!), { execute: [client.allowInsecureRequests] });
  const user = await createUser(server, 'rolling');
  const refreshTokens: string[] = [];
  for (let i = 0; i < 2; i++) refreshTokens.push((await codeFlow(server, web, user, { scope: 'openid' })).tokens.refresh_token!);
  const oldKid = kidOf((await post(new Agent(), basicAuth(machine.client_id, machine.client_secret), clientCredentialsForm)).body.access_token);

  // ---- load: 2 client_credentials workers and 2 refresh workers (each its own grant)
  const failures: string[] = [];
  const counts = { clientCredentials: 0, refresh: 0 };
  const signed: Array<{ kid: string; sentAt: number; receivedAt: number; token: string }> = [];
  let running = true;
  const machineAuth = basicAuth(machine.client_id, machine.client_secret!);
  const webAuth = basicAuth(created.client_id, created.client_secret!);
  const worker = async (next: (agent: Agent) => Promise<void>) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (running) await next(agent);
    } finally {
      agent.destroy();
    }
  };
  const record = (kind: string, answer: Answer | Error) => {
    if (answer instanceof Error) failures.push(`${kind}: ${(answer as NodeJS.ErrnoException).code ?? answer.message} (${answer.message}) at ${Math.round(performance.now() - loadStarted)} ms (${new Date().toISOString()})`);
    else if (answer.status !== 200) failures.push(`${kind}: ${answer.status} ${JSON.stringify(answer.body)}`);
    else return answer;
    return undefined;
  };
  const loadStarted = performance.now();
  const load = Promise.all([
    ...[0, 1].map(() => worker(async (agent) => {
      const answer = record('client_credentials', await post(agent, machineAuth, clientCredentialsForm).catch((error: Error) => error));
      if (!answer) return;
      counts.clientCredentials++;
      signed.push({ kid: kidOf(answer.body.access_token)!, sentAt: answer.sentAt, receivedAt: answer.receivedAt, token: answer.body.access_token });
    })),
    ...refreshTokens.map((_, i) => worker(async (agent) => {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshTokens[i] }).toString();
      const answer = record('refresh', await post(agent, webAuth, form).catch((error: Error) => error));
      // A lost refresh answer would leave this worker with a used token: stop it rather than count every next one.
      if (!answer) return void await new Promise((resolve) => setTimeout(resolve, 1000));
      counts.refresh++;
      refreshTokens[i] = answer.body.refresh_token;
    })),
  ]);

  // ---- every node's JWKS, polled directly while the roll goes on (a node that is restarting does not answer)
  const samples: Array<{ node: number; sentAt: number; hasNew: boolean }> = [];
  let newKids: string[] = [];
  const watching = (async () => {
    while (running) {
      await Promise.all(nodes.ports.map(async (port, node) => {
        if (newKids.length === 0) return;
        const sentAt = performance.now();
        const kids = await publishedKids(nodes, port).catch(() => undefined);
        if (kids) samples.push({ node, sentAt, hasNew: newKids.every((kid) => kids.includes(kid)) });
      }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();

  await new Promise((resolve) => setTimeout(resolve, 1000));
  const rss: number[] = [];
  const roll: string[] = [];
  let rotation: Promise<void> | undefined;
  const rollStarted = performance.now();
  for (let i = 0; i < 3; i++) {
    rss.push(peakRssMiB(nodes.nodes[i].pid));
    const stopping = performance.now();
    await nodes.stopNode(i);
    const stopped = performance.now();
    await nodes.startNode(i);
    await nodes.lb.waitFor([`node${i + 1}`], 'UP');
    roll.push(`at ${Math.round(stopping - loadStarted)} ms node${i + 1}: exit ${Math.round(stopped - stopping)} ms, back UP in haproxy ${Math.round(performance.now() - stopped)} ms`);
    if (i === 0) {
      // After the first node is back, while the second restarts: the new keys
      // reach an old process, a stopping one and a starting one.
      rotation = nodes.admin<{ keys: { kid: string; alg: string }[] }>(['keys', 'rotate', '--activate-in', '5s']).then((rotated) => {
        newKids = rotated.keys.map((key) => key.kid);
      });
    }
  }
  await rotation;
  // Until the new keys sign, and a little longer.
  const es256 = () => signed.some((s) => newKids.includes(s.kid));
  const waitUntil = performance.now() + 10_000;
  while (!es256() && performance.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 500));
  running = false;
  await Promise.all([load, watching]);
  const rolled = performance.now() - rollStarted;

  t.log(roll.join('\n'));
  t.log(`${counts.clientCredentials} client_credentials and ${counts.refresh} refresh answers during ${Math.round(rolled)} ms; failed: ${failures.length}`);
  t.log(`peak RSS of the nodes before their restart (MiB): ${rss.join(', ')}`);
  // haproxy's lines of requests that did not end normally (termination state other than "--").
  const abnormal = nodes.lb.output().split('\n').filter((line) => line.includes(' latchkey_nodes/') && / [A-Za-z-]{4} \d+\/\d+/.test(line) && !/ --[A-Za-z-]{2} \d+\//.test(line));
  if (abnormal.length) t.log(abnormal.join('\n'));
  if (failures.length) {
    mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../artifacts/ha-rolling-restart-haproxy.log', import.meta.url), nodes.lb.output());
    writeFileSync(new URL('../artifacts/ha-rolling-restart-nodes.log', import.meta.url), nodes.nodes.map((node, i) => `---- node${i + 1}\n${node.output()}`).join('\n'));
  }
  t.deepEqual(failures, [], 'no request failed during the rolling restart');
  t.true(counts.clientCredentials > 100 && counts.refresh > 30, 'the load ran all along');

  // ---- keys: once any node has signed with a new key, no node that answers
  // lacks it (the restarting node does not answer; it loads every key at start).
  const firstNew = signed.filter((s) => newKids.includes(s.kid)).sort((a, b) => a.receivedAt - b.receivedAt)[0];
  t.truthy(firstNew, 'the new key signed before the end');
  const lacking = samples.filter((sample) => !sample.hasNew && sample.sentAt > firstNew.receivedAt);
  t.deepEqual(lacking, [], 'no node published without the new keys after one signed with them');
  for (let node = 0; node < 3; node++) {
    const firstSeen = samples.find((sample) => sample.node === node && sample.hasNew);
    t.truthy(firstSeen, `node${node + 1} published the new keys`);
    t.log(`node${node + 1} published the new keys ${Math.round(firstNew.sentAt - firstSeen!.sentAt)} ms before the first token signed with them was requested`);
  }
  t.true(signed.some((s) => s.kid === oldKid), 'the old key signed during the roll');
  // Every token of the roll verifies against any node's JWKS.
  for (const port of nodes.ports) {
    const kids = await publishedKids(nodes, port);
    t.true(newKids.every((kid) => kids.includes(kid)) && kids.includes(oldKid!));
  }
  const jwks = jose.createRemoteJWKSet(new URL(`${nodes.issuer}/jwks`));
  for (const sample of [signed[0], firstNew, signed.at(-1)!]) {
    await t.notThrowsAsync(jose.jwtVerify(sample.token, jwks, { issuer: nodes.issuer, audience: API }));
  }
});
