// needs: postgres redis
// GET /metrics on the real server: its own loopback listener (never the public
// port), and counters that move by exactly what a scripted sign-in and a few
// token requests did, under route templates, never raw paths or ids.
import test from 'ava';
import * as client from 'openid-client';
import { networkInterfaces } from 'node:os';
import { tokenRequest } from '../helpers/oidc-http.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser, discover, eventually } from './support.ts';

const API = 'https://metrics.internal';

let server: RunningServer;

test.before(async () => {
  server = await startServer();
  await server.admin(['apis', 'create', '--identifier', API, '--scope', 'metrics:read']);
});

test.after.always(async () => {
  await server?.stop();
});

type Samples = Map<string, number>;

/** One Prometheus text exposition as "name{label="value",...}" -> value (labels as printed). */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

async function scrape(): Promise<{ text: string; samples: Samples }> {
  const response = await fetch(`${server.metricsOrigin}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  return { text, samples: parse(text) };
}

/** The value of one series, 0 when absent. Labels in the order prom-client prints them (as declared). */
const value = (samples: Samples, name: string, labels: Record<string, string> = {}) => {
  const printed = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  return samples.get(printed ? `${name}{${printed}}` : name) ?? 0;
};

const delta = (before: Samples, after: Samples, name: string, labels: Record<string, string> = {}) =>
  value(after, name, labels) - value(before, name, labels);

/** Everything a family counted between two scrapes, as "labels -> increase" (zero increases left out). */
function increases(before: Samples, after: Samples, name: string): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [series, v] of after) {
    if (!series.startsWith(`${name}{`) && series !== name) continue;
    const d = v - (before.get(series) ?? 0);
    if (d !== 0) moved[series.slice(name.length)] = d;
  }
  return moved;
}

test.serial('the counters move by exactly what a sign-in and token requests did', async (t) => {
  const machine = await server.admin<{ client_id: string; client_secret: string }>([
    'clients', 'create', '--name', 'metrics machine', '--grant', 'client_credentials', '--api', API, '--scope', 'metrics:read',
  ]);
  const app = await createCodeClient(server, 'metrics app', ['--first-party']);
  const user = await createUser(server, 'metrics');
  // Admin changes reach the server within CACHE_REFRESH_INTERVAL.
  await eventually('the machine client is known', async () =>
    ((await tokenRequest(server.issuer, { grant_type: 'client_credentials', scope: 'metrics:read' }, machine)).status === 200 ? true : undefined));

  const before = (await scrape()).samples;

  const issued = await tokenRequest(server.issuer, { grant_type: 'client_credentials', scope: 'metrics:read' }, machine);
  t.is(issued.status, 200, issued.text);
  const wrongSecret = await tokenRequest(server.issuer, { grant_type: 'client_credentials' }, { client_id: machine.client_id, client_secret: 'not-the-secret' });
  t.is(wrongSecret.body.error, 'invalid_client');
  // oidc-provider says invalid_request here; Latchkey answers (and counts) invalid_client.
  const noAuthentication = await tokenRequest(server.issuer, { grant_type: 'client_credentials' });
  t.is(noAuthentication.body.error, 'invalid_client');

  const config = await discover(server, app.client_id, client.ClientSecretBasic(app.client_secret!));
  const { callback } = await codeFlow(server, config, user);

  const { text, samples: after } = await scrape();

  t.deepEqual(increases(before, after, 'latchkey_tokens_issued_total'), {
    [`{grant_type="client_credentials",client_id="${machine.client_id}"}`]: 1,
    [`{grant_type="authorization_code",client_id="${app.client_id}"}`]: 1,
  });
  t.deepEqual(increases(before, after, 'latchkey_token_requests_refused_total'), {
    '{grant_type="client_credentials",error="invalid_client"}': 2,
  });

  // Every request, under its template: the token calls, then the browser's
  // sign-in (discovery, /auth, login page, password, back to /auth, the
  // first-party consent step that needs no page, /auth again to the client).
  t.deepEqual(increases(before, after, 'latchkey_http_requests_total'), {
    '{route="/token",method="POST",status="200"}': 2,
    '{route="/token",method="POST",status="401"}': 2,
    '{route="/.well-known/openid-configuration",method="GET",status="200"}': 1,
    '{route="/auth",method="GET",status="303"}': 1,
    '{route="/interaction/:uid",method="GET",status="200"}': 1,
    '{route="/interaction/:uid/login",method="POST",status="303"}': 1,
    '{route="/auth/:uid",method="GET",status="303"}': 2,
    '{route="/interaction/:uid",method="GET",status="303"}': 1,
  });
  t.is(delta(before, after, 'latchkey_http_request_duration_seconds_count', { route: '/token', method: 'POST' }), 4);
  // No raw path, interaction uid, code or client secret in any label.
  t.notRegex(text, /interaction\/[A-Za-z0-9_-]{10,}/);
  t.false(text.includes(callback.searchParams.get('code')!));
  t.false(text.includes(machine.client_secret));
  t.false(text.includes(user.password));

  // Stores and process defaults are there.
  t.true(value(after, 'latchkey_postgres_query_duration_seconds_count', { operation: 'query' }) > 0);
  t.true(value(after, 'latchkey_redis_command_duration_seconds_count', { command: 'get' })
    + value(after, 'latchkey_redis_command_duration_seconds_count', { command: 'set' }) > 0);
  t.regex(text, /^latchkey_nodejs_eventloop_lag_seconds \d/m);
  t.regex(text, /^latchkey_nodejs_heap_size_used_bytes \d/m);
  // Registered from the start; its samples appear with the process's first garbage collection, which may not have come yet.
  t.regex(text, /^# TYPE latchkey_nodejs_gc_duration_seconds histogram$/m);
  t.is(value(after, 'latchkey_ready'), 1);
  t.true(value(after, 'latchkey_admin_cache_generation') > 0, 'the generation moved with the admin changes above');
  t.true(value(after, 'latchkey_admin_cache_age_seconds') < 30);
  // A fresh key, the default 90-day plan.
  const due = value(after, 'latchkey_signing_key_rotation_due_seconds');
  t.true(due > 89 * 86400 && due <= 90 * 86400, String(due));
});

test.serial('/metrics is not served on the public port, and the metrics port serves nothing else', async (t) => {
  const publicAnswer = await fetch(`${server.origin}/metrics`);
  t.is(publicAnswer.status, 404);
  t.false((await publicAnswer.text()).includes('latchkey_http_requests_total'));
  t.is((await fetch(`${server.metricsOrigin}/`)).status, 404);
  t.is((await fetch(`${server.metricsOrigin}/healthz`)).status, 404);
  t.is((await fetch(`${server.metricsOrigin}/metrics`, { method: 'POST' })).status, 405);
});

test.serial('the metrics listener binds 127.0.0.1 by default', async (t) => {
  t.regex(server.output(), new RegExp(`metrics +http://127\\.0\\.0\\.1:${new URL(server.metricsOrigin).port}/metrics`));
  t.is((await fetch(`${server.metricsOrigin}/metrics`)).status, 200);
  // Reachable on loopback only: another address of this machine is refused.
  const others = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4');
  t.log(`non-loopback addresses tried: ${others.map((a) => a!.address).join(', ') || 'none'}`);
  for (const address of others) {
    const error = await fetch(`http://${address!.address}:${new URL(server.metricsOrigin).port}/metrics`).then(() => undefined, (e: Error) => e);
    t.truthy(error, `the metrics port answered on ${address!.address}`);
  }
});
