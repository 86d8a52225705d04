// X_FILE for every secret setting (server/config/secret-files.ts): Docker and
// Kubernetes secrets arrive as files, and their values must never be echoed.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config/index.ts';
import { SETTINGS } from '../../server/config/settings.ts';

const SECRET = Buffer.alloc(32, 7).toString('base64');
const COOKIE_KEYS = `${'a'.repeat(32)},${'b'.repeat(32)}`;
const folder = mkdtempSync(join(tmpdir(), 'latchkey-secret-files-'));
const file = (name: string, contents: string) => {
  const path = join(folder, name);
  writeFileSync(path, contents);
  return path;
};
const production = { NODE_ENV: 'production', ISSUER: 'https://id.example.com', TRUST_PROXY: 'true' };

test('every secret setting can come from X_FILE, trailing newlines (LF or CRLF) trimmed', (t) => {
  const config = loadConfig({
    ...production,
    LATCHKEY_SECRET_FILE: file('secret', `${SECRET}\n`),
    DATABASE_URL_FILE: file('database-url', 'postgres://latchkey:pw@db/latchkey\r\n'),
    REDIS_URL_FILE: file('redis-url', 'redis://:pw@cache:6379'),
    COOKIE_SECRETS_FILE: file('cookie-secrets', `${COOKIE_KEYS}\n\n`),
  });
  t.is(config.secret, SECRET);
  t.is(config.databaseUrl, 'postgres://latchkey:pw@db/latchkey');
  t.is(config.redisUrl, 'redis://:pw@cache:6379');
  t.deepEqual(config.cookieSecrets, ['a'.repeat(32), 'b'.repeat(32)]);
  // These are exactly the settings marked secret: a new secret setting gets X_FILE without more code.
  t.deepEqual(SETTINGS.filter((s) => 'secret' in s && s.secret).map((s) => s.name).sort(), ['COOKIE_SECRETS', 'DATABASE_URL', 'LATCHKEY_SECRET', 'REDIS_PASSWORD', 'REDIS_SENTINEL_PASSWORD', 'REDIS_URL']);
});

test('setting both X and X_FILE is a one-line error naming both', (t) => {
  const error = t.throws(() => loadConfig({ LATCHKEY_SECRET: SECRET, LATCHKEY_SECRET_FILE: file('both', SECRET) }), { instanceOf: ConfigError });
  t.is(error.message, 'Invalid configuration: LATCHKEY_SECRET and LATCHKEY_SECRET_FILE are both set: keep one');
});

test('an unreadable file is a one-line error naming the variable and the path', (t) => {
  const missing = join(folder, 'no-such-file');
  const error = t.throws(() => loadConfig({ DATABASE_URL_FILE: missing }), { instanceOf: ConfigError });
  t.is(error.message, `Invalid configuration: DATABASE_URL_FILE names a file that cannot be read (${missing}: ENOENT)`);
  const directory = t.throws(() => loadConfig({ REDIS_URL_FILE: folder }), { instanceOf: ConfigError });
  t.is(directory.message, `Invalid configuration: REDIS_URL_FILE names a file that cannot be read (${folder}: EISDIR)`);
});

test('an empty file is an error, not a silently missing secret', (t) => {
  const empty = file('empty', '\n');
  t.throws(() => loadConfig({ LATCHKEY_SECRET_FILE: empty }), { instanceOf: ConfigError, message: `Invalid configuration: LATCHKEY_SECRET_FILE names an empty file (${empty})` });
});

test('a bad value read from a file is named with its source, never echoed', (t) => {
  const error = t.throws(() => loadConfig({ DATABASE_URL_FILE: file('bad-url', 'mysql://root:hunter2@db/x\n') }), { instanceOf: ConfigError });
  t.regex(error.message, /^Invalid configuration: DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(value hidden, read from DATABASE_URL_FILE\)$/);
  t.false(error.message.includes('hunter2'));
});

test('every problem is reported at once, on one line', (t) => {
  const error = t.throws(() => loadConfig({ REDIS_URL: 'redis://x', REDIS_URL_FILE: file('r', 'redis://y'), LATCHKEY_SECRET_FILE: join(folder, 'gone'), PORT: 'x' }), { instanceOf: ConfigError });
  t.false(error.message.includes('\n'));
  t.regex(error.message, /REDIS_URL and REDIS_URL_FILE are both set/);
  t.regex(error.message, /LATCHKEY_SECRET_FILE names a file that cannot be read/);
  t.regex(error.message, /PORT must be a whole number/);
});

test('an empty X_FILE counts as unset, and settings that hold no secret have no X_FILE', (t) => {
  t.is(loadConfig({ LATCHKEY_SECRET_FILE: '' }).secret, undefined);
  t.is(loadConfig({ LATCHKEY_SECRET: SECRET, LATCHKEY_SECRET_FILE: '' }).secret, SECRET);
  t.is(loadConfig({ PORT_FILE: file('port', '4000') }).port, 3000);
});
