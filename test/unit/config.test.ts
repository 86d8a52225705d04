import test from 'ava';
import { ConfigError, loadConfig } from '../../server/config/index.ts';
import { formatDuration, parseDuration } from '../../server/config/duration.ts';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db/latchkey',
  REDIS_URL: 'redis://cache:6379',
  LATCHKEY_SECRET: SECRET,
  ISSUER: 'https://id.example.com',
  TRUST_PROXY: 'true',
};

test('defaults give a working development config', (t) => {
  const config = loadConfig({});
  t.is(config.port, 3000);
  t.is(config.issuer, 'http://localhost:3000');
  t.is(config.ttl.authorizationCode, 60);
  t.is(config.ttl.accessToken, 300);
  t.deepEqual(config.argon2, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  t.false(config.production);
  t.true(Object.isFrozen(config));
});

test('durations accept seconds and units', (t) => {
  t.is(parseDuration('300'), 300);
  t.is(parseDuration('5m'), 300);
  t.is(parseDuration('1h'), 3600);
  t.is(parseDuration('14d'), 14 * 86400);
  t.throws(() => parseDuration('5 minutes'), { message: /not a duration/ });
  t.throws(() => parseDuration('0'), { message: /positive/ });
  t.is(formatDuration(3600), '1h');
  t.is(formatDuration(90), '90s');
});

test('every bad value is named with a clear message', (t) => {
  const error = t.throws(() => loadConfig({ PORT: 'eighty', BRAND_COLOR: 'blue', ACCESS_TOKEN_TTL: 'soon' }), { instanceOf: ConfigError });
  t.regex(error.message, /PORT must be a whole number \(got "eighty"\)/);
  t.regex(error.message, /BRAND_COLOR must be a hex colour/);
  t.regex(error.message, /ACCESS_TOKEN_TTL "soon" is not a duration/);
});

test('authorization codes may not live longer than 60 s', (t) => {
  t.throws(() => loadConfig({ AUTHORIZATION_CODE_TTL: '2m' }), { message: /AUTHORIZATION_CODE_TTL must be at most 60s/ });
});

test('argon2 parameters below OWASP minimums are refused', (t) => {
  t.throws(() => loadConfig({ ARGON2_MEMORY_KIB: '1024' }), { message: /ARGON2_MEMORY_KIB must be at least 19456/ });
  t.throws(() => loadConfig({ ARGON2_TIME_COST: '1' }), { message: /ARGON2_TIME_COST must be at least 2/ });
});

test('idle lifetimes cannot exceed absolute ones', (t) => {
  t.throws(() => loadConfig({ REFRESH_TOKEN_IDLE_TTL: '60d' }), { message: /REFRESH_TOKEN_IDLE_TTL must not exceed/ });
});

test('store URLs must use the right scheme', (t) => {
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), { message: /DATABASE_URL must be a URL starting with postgres:/ });
  t.throws(() => loadConfig({ REDIS_URL: 'http://x' }), { message: /REDIS_URL must be a URL/ });
});

test('the access log is on unless ACCESS_LOG=false; tracing is on when an OTLP endpoint is set, and a bad one stops the start', (t) => {
  t.true(loadConfig({}).accessLog);
  t.false(loadConfig({ ACCESS_LOG: 'false' }).accessLog);
  t.throws(() => loadConfig({ ACCESS_LOG: 'off' }), { message: /ACCESS_LOG/ });
  t.false(loadConfig({}).tracing);
  t.true(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318' }).tracing);
  t.true(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/v1/traces' }).tracing);
  t.false(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing, 'empty is unset');
  t.throws(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318' }), { message: /OTEL_EXPORTER_OTLP_ENDPOINT must be a URL/ });
});

test('production accepts safe settings', (t) => {
  const config = loadConfig(production);
  t.true(config.production);
  t.is(config.redisUrl, 'redis://cache:6379');
});

for (const [name, env, reason] of [
  ['missing secret', { LATCHKEY_SECRET: undefined }, /LATCHKEY_SECRET is required/],
  ['memory stores', { DATABASE_URL: undefined, REDIS_URL: undefined }, /DATABASE_URL is required.*REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is required/],
  ['plain-http issuer off localhost', { ISSUER: 'http://id.example.com' }, /ISSUER must use https/],
] as const) {
  test(`production refuses ${name} with one line`, (t) => {
    const error = t.throws(() => loadConfig({ ...production, ...env }), { instanceOf: ConfigError });
    t.regex(error.message, /^Refusing to start in production: /);
    t.regex(error.message, reason);
    t.false(error.message.includes('\n'));
  });
}

test('an https issuer without a trusted proxy is refused with one line, in production and in development', (t) => {
  // Latchkey never terminates TLS itself: an https issuer means a proxy whose X-Forwarded-Proto must count.
  for (const env of [{ ...production, TRUST_PROXY: 'false' }, { ISSUER: 'https://localhost:3443' }]) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error.message, /TRUST_PROXY=true is required with an https ISSUER/);
    t.false(error.message.includes('\n'));
  }
});

test('production allows plain http on localhost', (t) => {
  t.notThrows(() => loadConfig({ ...production, ISSUER: 'http://localhost:3000' }));
});

test('values that may carry a password or key are never echoed', (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL: 'postgres//admin:hunter2@db', LATCHKEY_SECRET: '', COOKIE_SECRETS: 'short-secret-value' }), { instanceOf: ConfigError });
  t.false(error.message.includes('hunter2'));
  t.false(error.message.includes('short-secret-value'));
  t.regex(error.message, /DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(value hidden\)/);
  t.regex(error.message, /COOKIE_SECRETS must be comma-separated keys of at least 32 characters each \(value hidden\)/);
});

test('the issuer is an origin: no path, no trailing slash', (t) => {
  t.throws(() => loadConfig({ ISSUER: 'https://id.example.com/auth' }), { message: /ISSUER must be an origin in lower case, without path/ });
  t.throws(() => loadConfig({ ISSUER: 'https://id.example.com/' }), { message: /ISSUER must be an origin/ });
  for (const issuer of ['HTTPS://id.example.com', 'https://u:p@id.example.com', 'https://id.example.com?x=1', 'https://id.example.com#f']) {
    t.throws(() => loadConfig({ ISSUER: issuer }), { message: /ISSUER must be an origin/ }, issuer);
  }
  t.true(loadConfig({ ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' }).https);
  t.false(loadConfig({ ISSUER: 'http://localhost:3000' }).https);
  t.is(loadConfig({ ISSUER: 'https://id.example.com:8443', TRUST_PROXY: 'true' }).issuer, 'https://id.example.com:8443');
});

test('HOST: development binds loopback only, production every interface; HOST says otherwise in both', (t) => {
  t.is(loadConfig({}).host, '127.0.0.1');
  t.is(loadConfig({ NODE_ENV: 'test' }).host, '127.0.0.1');
  t.is(loadConfig(production).host, '0.0.0.0');
  t.is(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  t.is(loadConfig({ ...production, HOST: '10.0.0.7' }).host, '10.0.0.7');
});

test('WORKERS: 1 by default, a number, or auto for one per core; above 1 only with Postgres and Redis', async (t) => {
  const { availableParallelism } = await import('node:os');
  t.is(loadConfig({}).workers, 1);
  t.is(loadConfig({ ...production, WORKERS: '3' }).workers, 3);
  t.is(loadConfig({ ...production, WORKERS: 'auto' }).workers, availableParallelism());
  t.throws(() => loadConfig({ ...production, WORKERS: '0' }), { message: /WORKERS must be at least 1/ });
  for (const env of [{ WORKERS: '2' }, { WORKERS: 'auto' }, { WORKERS: '2', DATABASE_URL: 'postgres://db/latchkey' }]) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error.message, /^Invalid configuration: WORKERS=(2|auto) needs DATABASE_URL and Redis \(REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES;/);
    t.false(error.message.includes('\n'));
  }
});
