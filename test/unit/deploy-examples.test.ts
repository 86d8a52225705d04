// The deployment examples in docs/deploy/ stay consistent with the server:
// the settings they pass parse in production mode, the probes ask the health
// paths the server answers, and the grace period outlasts the shutdown. (The
// HAProxy configuration is run for real by test/ha/.)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseDuration } from '../../server/config/duration.ts';
import { loadConfig } from '../../server/config/index.ts';
import { HEALTH_PATHS } from '../../server/health/routes.ts';
import { HAPROXY, haproxyConfig } from '../helpers/haproxy.ts';

const read = (file: string) => readFileSync(new URL(`../../docs/deploy/${file}`, import.meta.url), 'utf8');
const deployment = read('kubernetes/deployment.yaml');

/** `- { name: X, value: Y }` entries of the container's env. */
const envOf = (yaml: string) => Object.fromEntries([...yaml.matchAll(/- \{ name: ([A-Z_]+), value: "?([^"}]*?)"? \}/g)].map((m) => [m[1], m[2].trim()]));
/** The stringData keys of the Secret. */
const secretKeys = [...read('kubernetes/secret.yaml').matchAll(/^ {2}([A-Z_]+): /gm)].map((m) => m[1]);

test('the Deployment and its Secret hold settings that parse in production mode', (t) => {
  const env = envOf(deployment);
  t.is(env.NODE_ENV, 'production');
  t.deepEqual(secretKeys.sort(), ['DATABASE_URL', 'LATCHKEY_SECRET', 'REDIS_URL']);
  const config = loadConfig({
    ...env,
    LATCHKEY_SECRET: Buffer.alloc(32, 7).toString('base64'),
    DATABASE_URL: 'postgres://latchkey@postgres/latchkey',
    REDIS_URL: 'redis://redis:6379',
  });
  t.true(config.production);
  t.true(config.trustProxy, 'an https issuer behind an ingress needs TRUST_PROXY');
});

test('the probes ask the health paths the server answers: readiness /healthz/ready, liveness /healthz/live', (t) => {
  const probe = (name: string) => new RegExp(`${name}:\\s*\\n\\s*httpGet: \\{ path: (\\S+),`).exec(deployment)?.[1];
  t.is(probe('readinessProbe'), '/healthz/ready');
  t.is(probe('livenessProbe'), '/healthz/live');
  for (const name of ['readinessProbe', 'livenessProbe', 'startupProbe']) t.true(HEALTH_PATHS.includes(probe(name)!), name);
});

test('terminationGracePeriodSeconds outlasts the preStop pause plus SHUTDOWN_TIMEOUT', (t) => {
  const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(deployment)?.[1]);
  const preStop = Number(/sleep: \{ seconds: (\d+) \}/.exec(deployment)?.[1]);
  const shutdown = parseDuration(envOf(deployment).SHUTDOWN_TIMEOUT);
  t.true(grace > preStop + shutdown, `${grace} s > ${preStop} s + ${shutdown} s`);
});

test('the PodDisruptionBudget and the Deployment select the same pods', (t) => {
  const label = /matchLabels: \{ app\.kubernetes\.io\/name: (\S+) \}/;
  t.is(label.exec(read('kubernetes/pdb.yaml'))?.[1], label.exec(deployment)?.[1]);
});

test('haproxy accepts the configuration for 1 and 5 nodes', (t) => {
  if (!existsSync(HAPROXY)) return t.pass(`${HAPROXY} not installed: test/ha/ runs it`);
  for (const nodes of [1, 5]) {
    const config = haproxyConfig(nodes);
    t.is([...config.matchAll(/^\s*server node\d+ /gm)].length, nodes);
    const env = { ...process.env, LATCHKEY_LB_BIND: '127.0.0.1:1', LATCHKEY_LB_STATS: '127.0.0.1:2' } as Record<string, string>;
    for (let i = 1; i <= nodes; i++) env[`LATCHKEY_NODE${i}`] = `127.0.0.1:${10 + i}`;
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-haproxy-check-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), config);
      t.notThrows(() => execFileSync(HAPROXY, ['-c', '-f', join(dir, 'haproxy.cfg')], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
