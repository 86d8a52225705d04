// REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES: one topology, contradictions refused in one line.
import test from 'ava';
import { ConfigError, loadConfig } from '../../server/config/index.ts';

const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });

test('REDIS_URL alone: one Redis', (t) => {
  t.deepEqual(load({ REDIS_URL: 'redis://cache:6379' }).redis, { mode: 'standalone', url: 'redis://cache:6379', password: undefined, tls: false });
  t.is(load({}).redis, undefined);
});

test('REDIS_SENTINELS: the named primary, passwords from REDIS_URL or REDIS_PASSWORD, TLS from rediss:// or REDIS_TLS', (t) => {
  const sentinel = load({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'main', REDIS_SENTINEL_PASSWORD: 'sp', REDIS_URL: 'rediss://app:dp@ignored/2' }).redis;
  t.deepEqual(sentinel, {
    mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }], name: 'main',
    sentinelPassword: 'sp', username: 'app', password: 'dp', tls: true, db: 2,
  });
  const plain = load({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'main', REDIS_PASSWORD: 'dp', REDIS_TLS: 'true' }).redis;
  t.like(plain, { mode: 'sentinel', password: 'dp', tls: true, db: 0 });
});

test('REDIS_CLUSTER_NODES: a cluster', (t) => {
  t.like(load({ REDIS_CLUSTER_NODES: 'a:7000,b:7001', REDIS_PASSWORD: 'dp' }).redis, { mode: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }], password: 'dp', tls: false });
});

for (const [env, reason] of [
  [{ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:1' }, /REDIS_SENTINELS and REDIS_CLUSTER_NODES exclude each other/],
  [{ REDIS_SENTINELS: 's:1' }, /REDIS_SENTINELS needs REDIS_SENTINEL_NAME/],
  [{ REDIS_URL: 'redis://c:1', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINEL_NAME is set without REDIS_SENTINELS/],
  [{ REDIS_URL: 'redis://c:1', REDIS_SENTINEL_PASSWORD: 'x' }, /REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS/],
  [{ REDIS_URL: 'redis://:a@c:1', REDIS_PASSWORD: 'b' }, /REDIS_PASSWORD and a password in REDIS_URL are both set/],
  [{ REDIS_URL: 'rediss://c:1', REDIS_TLS: 'false' }, /REDIS_TLS=false contradicts/],
  [{ REDIS_URL: 'redis://c:1', REDIS_TLS: 'true' }, /REDIS_TLS=true contradicts/],
  [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://x/3' }, /only database 0/],
  [{ REDIS_PASSWORD: 'p' }, /REDIS_PASSWORD is set without/],
  [{ REDIS_SENTINELS: 'no-port', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS must be comma-separated host:port/],
] as const) {
  test(`refused in one line: ${Object.keys(env).join(' + ')} → ${reason.source.slice(0, 40)}`, (t) => {
    const error = t.throws(() => load(env), { instanceOf: ConfigError });
    t.regex(error.message, reason);
    t.false(error.message.includes('\n'));
    t.false(/\bdp\b|:a@/.test(error.message), 'no password echoed');
  });
}

test('production accepts Sentinel or Cluster instead of REDIS_URL', (t) => {
  const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', TRUST_PROXY: 'true', LATCHKEY_SECRET: 'x'.repeat(44), DATABASE_URL: 'postgres://db/latchkey' };
  t.is(loadConfig({ ...production, REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }).redis?.mode, 'sentinel');
  t.is(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'a:7000' }).redis?.mode, 'cluster');
});
