// needs: postgres
// Runs the real `latchkey` CLI as a child process against a fresh database.
import test from 'ava';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../server/config/index.ts';
import { buildKeyring } from '../../server/crypto/master-key.ts';
import { verifySecret } from '../../server/crypto/secrets.ts';
import { createEmptyDatabase } from '../helpers/services.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = join(root, 'node_modules', '.bin', 'node');
const secret = randomBytes(32).toString('base64');
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-cli-'));
let databaseUrl: string;
let dropDatabase: () => Promise<void>;

interface Run { code: number | null; stdout: string; stderr: string }

function latchkey(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(root, 'server/cli/main.ts'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LATCHKEY_SECRET: secret, NODE_ENV: 'test', DATA_DIR: tmp },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Runs a command with --json and expects success and exactly one JSON object. */
async function json(args: string[], input?: string): Promise<any> {
  const run = await latchkey([...args, '--json'], input);
  if (run.code !== 0) throw new Error(`latchkey ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** Expects exit 1 and one stderr line "latchkey: ..." matching `message`. */
async function fails(t: any, args: string[], message: RegExp, input?: string): Promise<void> {
  const run = await latchkey(args, input);
  t.is(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^latchkey: [^\n]+\n$/);
  t.regex(run.stderr, message);
}

async function query(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test.before(async () => {
  ({ url: databaseUrl, drop: dropDatabase } = await createEmptyDatabase());
});
test.after.always(async () => {
  await dropDatabase?.();
  rmSync(tmp, { recursive: true, force: true });
});

const state: { webId?: string; webSecret?: string; userId?: string } = {};

test.serial('migrate applies the schema, then is up to date', async (t) => {
  t.deepEqual(await json(['migrate']), { applied: [{ version: 1, name: 'init' }, { version: 2, name: 'account_sessions_revoked_at' }, { version: 3, name: 'client_id_token_alg' }, { version: 4, name: 'signing_key_activation' }, { version: 5, name: 'mfa' }, { version: 6, name: 'account_email_canonical' }, { version: 7, name: 'audit_events' }] });
  const again = await latchkey(['migrate']);
  t.is(again.code, 0);
  t.regex(again.stdout, /up to date/);
});

test.serial('apis create / list / show', async (t) => {
  const api = await json(['apis', 'create', '--identifier', 'https://api.example.com', '--scope', 'orders:read orders:write', '--name', 'Orders', '--ttl', '10m']);
  t.like(api, { identifier: 'https://api.example.com', name: 'Orders', scopes: ['orders:read', 'orders:write'], access_token_ttl: 600 });
  t.regex(api.id, /^[0-9a-f-]{36}$/);
  t.truthy(Date.parse(api.created_at));
  t.is((await json(['apis', 'create', '--identifier', 'https://billing.example.com', '--scope', 'billing:read'])).access_token_ttl, 300);
  t.deepEqual((await json(['apis', 'list'])).apis.map((a: any) => a.identifier), ['https://api.example.com', 'https://billing.example.com']);
  t.deepEqual(await json(['apis', 'show', api.id]), api);
  t.deepEqual(await json(['apis', 'show', 'https://api.example.com']), api);
  const text = await latchkey(['apis', 'list']);
  t.regex(text.stdout, /^ID\s+IDENTIFIER\s+NAME\s+TTL\s+SCOPES\n/);
  await fails(t, ['apis', 'create', '--identifier', 'https://api.example.com', '--scope', 'x'], /already exists/);
  await fails(t, ['apis', 'create', '--identifier', 'http://api.example.com', '--scope', 'x'], /must use https/);
  await fails(t, ['apis', 'create', '--identifier', 'https://x.example.com', '--scope', 'x', '--ttl', '2d'], /between 1s and 1d/);
  await fails(t, ['apis', 'show', 'https://nope.example.com'], /unknown API https:\/\/nope\.example\.com/);
});

test.serial('clients create prints the secret once and stores only its keyed hash', async (t) => {
  const client = await json(['clients', 'create', '--name', 'Web', '--grant', 'authorization_code', '--grant', 'refresh_token',
    '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'http://127.0.0.1:5173/cb', '--post-logout-redirect-uri', 'https://app.example.com/',
    '--api', 'https://api.example.com', '--api', 'https://billing.example.com', '--scope', 'orders:read billing:read', '--first-party']);
  t.regex(client.client_id, /^[A-Za-z0-9_-]{22}$/);
  t.regex(client.client_secret, /^[A-Za-z0-9_-]{43}$/);
  t.like(client, {
    name: 'Web', grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'client_secret_basic', first_party: true,
    redirect_uris: ['https://app.example.com/cb', 'http://127.0.0.1:5173/cb'], post_logout_redirect_uris: ['https://app.example.com/'],
  });
  t.deepEqual(client.apis, [
    { identifier: 'https://api.example.com', scopes: ['orders:read'] },
    { identifier: 'https://billing.example.com', scopes: ['billing:read'] },
  ]);
  state.webId = client.client_id;
  state.webSecret = client.client_secret;

  const shown = await latchkey(['clients', 'show', client.client_id, '--json']);
  t.is(shown.code, 0);
  t.false(shown.stdout.includes(client.client_secret));
  t.false(shown.stdout.includes('hmac-sha256'));
  t.false('client_secret' in JSON.parse(shown.stdout));
  const text = await latchkey(['clients', 'show', client.client_id]);
  t.false(text.stdout.includes(client.client_secret));
  t.false(text.stdout.includes('hmac-sha256'));
  t.deepEqual((await json(['clients', 'list'])).clients.map((c: any) => c.client_id), [client.client_id]);

  const rows = await query('SELECT * FROM clients');
  t.false(JSON.stringify(rows).includes(client.client_secret), 'no plaintext secret in the database');
  const keyring = buildKeyring(Buffer.from(secret, 'base64'), loadConfig({ NODE_ENV: 'test' }));
  t.true(verifySecret(keyring.secretHash, client.client_secret, rows[0].secret_hash));
});

test.serial('public and private_key_jwt clients get no secret', async (t) => {
  const spa = await json(['clients', 'create', '--name', 'SPA', '--public', '--grant', 'authorization_code', '--redirect-uri', 'com.example.app:/cb']);
  t.is(spa.token_endpoint_auth_method, 'none');
  t.false('client_secret' in spa);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwksFile = join(tmp, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] }));
  const m2m = await json(['clients', 'create', '--name', 'Worker', '--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks-file', jwksFile,
    '--api', 'https://api.example.com', '--scope', 'orders:write']);
  t.is(m2m.token_endpoint_auth_method, 'private_key_jwt');
  t.false('client_secret' in m2m);
  t.is(m2m.jwks.keys[0].kid, 'k1');
  await fails(t, ['clients', 'rotate-secret', m2m.client_id], /has no secret to rotate/);

  writeFileSync(jwksFile, JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] }));
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'client_credentials', '--auth', 'private_key_jwt', '--jwks-file', jwksFile], /private member "d"/);
});

test.serial('clients create refuses bad registrations in one line', async (t) => {
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'authorization_code', '--redirect-uri', 'http://example.com/cb'], /redirect URI http:\/\/example\.com\/cb must use https/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'password'], /password grant is refused/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'client_credentials', '--public'], /public client cannot use client_credentials/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'client_credentials', '--api', 'https://x.example.com'], /unknown API https:\/\/x\.example\.com/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'client_credentials', '--api', 'https://api.example.com', '--scope', 'orders:delete'], /scope "orders:delete" is not offered/);
  await fails(t, ['clients', 'create', '--grant', 'client_credentials'], /required option '--name <name>'/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--grant', 'client_credentials'], /^latchkey: client_credentials needs the API its tokens are for: add --api <identifier> \(see latchkey apis list\)\n$/);
  await fails(t, ['clients', 'create', '--name', 'Bad', '--frobnicate'], /unknown option '--frobnicate'/);
  t.is((await json(['clients', 'list'])).clients.length, 3, 'nothing half-created');
});

test.serial('clients rotate-secret keeps the old secret for the grace period, or revokes it with --grace 0', async (t) => {
  const before = (await query('SELECT secret_hash FROM clients WHERE client_id = $1', [state.webId]))[0];
  const rotated = await json(['clients', 'rotate-secret', state.webId!, '--grace', '1h']);
  t.is(rotated.client_id, state.webId);
  t.regex(rotated.client_secret, /^[A-Za-z0-9_-]{43}$/);
  t.not(rotated.client_secret, state.webSecret);
  const expiresIn = Date.parse(rotated.previous_secret_expires_at) - Date.now();
  t.true(expiresIn > 3500_000 && expiresIn <= 3600_000);
  let row = (await query('SELECT * FROM clients WHERE client_id = $1', [state.webId]))[0];
  t.is(row.previous_secret_hash, before.secret_hash);
  t.false(JSON.stringify(row).includes(rotated.client_secret));
  t.truthy((await json(['clients', 'show', state.webId!])).previous_secret_expires_at);

  const revoked = await json(['clients', 'rotate-secret', state.webId!, '--grace', '0']);
  t.is(revoked.previous_secret_expires_at, null);
  row = (await query('SELECT * FROM clients WHERE client_id = $1', [state.webId]))[0];
  t.is(row.previous_secret_hash, null);
  await fails(t, ['clients', 'rotate-secret', 'nope'], /^latchkey: unknown client nope\n$/);
});

test.serial('users create / list / show / disable / enable / set-password / delete', async (t) => {
  const user = await json(['users', 'create', '--email', 'Ann@Example.com', '--name', 'Ann', '--password-stdin', '--email-verified'], 'correct horse battery\n');
  t.like(user, { email: 'Ann@Example.com', name: 'Ann', email_verified: true, disabled: false });
  state.userId = user.id;
  const stored = (await query('SELECT password_hash FROM accounts'))[0].password_hash;
  t.regex(stored, /^\$argon2id\$/);
  t.deepEqual(await json(['users', 'show', 'ann@example.com']), { ...user, factors: [] });
  t.deepEqual(await json(['users', 'show', user.id]), { ...user, factors: [] });
  t.deepEqual(await json(['users', 'show', 'ＡＮＮ@EXAMPLE.COM']), { ...user, factors: [] }, 'C56: any spelling of the address');
  t.deepEqual((await json(['users', 'list'])).users.map((u: any) => u.id), [user.id]);
  t.true((await json(['users', 'disable', 'ann@example.com'])).disabled);
  t.false((await json(['users', 'enable', user.id])).disabled);
  await json(['users', 'set-password', 'ann@example.com', '--password-stdin'], 'a brand new passphrase');
  t.not((await query('SELECT password_hash FROM accounts'))[0].password_hash, stored);

  await fails(t, ['users', 'create', '--email', 'ann@EXAMPLE.com', '--name', 'Dup', '--password-stdin'], /^latchkey: an account with this email already exists\n$/, 'another good passphrase\n');
  await fails(t, ['users', 'create', '--email', 'ａnn@example.com', '--name', 'Dup', '--password-stdin'], /^latchkey: an account with this email already exists\n$/, 'another good passphrase\n');
  await fails(t, ['users', 'create', '--email', 'bo@example.com', '--name', 'Bo'], /use --password-stdin/);
  await fails(t, ['users', 'create', '--email', 'bo@example.com', '--name', 'Bo', '--password-stdin'], /too common/, 'password123\n');
  await fails(t, ['users', 'set-password', 'ann@example.com'], /use --password-stdin/);
  await fails(t, ['users', 'show', 'nobody@example.com'], /unknown user nobody@example\.com/);

  t.like(await json(['users', 'delete', 'ann@example.com']), { deleted: true, id: user.id });
  await fails(t, ['users', 'delete', user.id], /unknown user/);
});

test.serial('users create needs no --name', async (t) => {
  const user = await json(['users', 'create', '--email', 'dee@example.com', '--password-stdin'], 'a nameless passphrase\n');
  t.like(user, { email: 'dee@example.com', name: null });
  t.regex((await latchkey(['users', 'show', 'dee@example.com'])).stdout, /^name +-$/m);
  t.like(await json(['users', 'delete', user.id]), { deleted: true });
});

test.serial('a trailing newline is trimmed once, other whitespace is kept', async (t) => {
  await json(['users', 'create', '--email', 'cy@example.com', '--name', 'Cy', '--password-stdin'], ' spaced passphrase \n\n');
  const { createAccountService } = await import('../../server/accounts/account-service.ts');
  const { connectPostgres } = await import('../../server/db/database.ts');
  const db = connectPostgres(databaseUrl);
  try {
    const accounts = createAccountService(db, loadConfig({ NODE_ENV: 'test' }));
    t.truthy(await accounts.authenticate('cy@example.com', ' spaced passphrase \n'));
    t.falsy(await accounts.authenticate('cy@example.com', ' spaced passphrase '));
  } finally {
    await db.close();
  }
});

test.serial('keys rotate / list', async (t) => {
  const rotated = await json(['keys', 'rotate']);
  t.true(rotated.keys.length >= 1);
  const listed = (await json(['keys', 'list'])).keys;
  for (const key of rotated.keys) t.like(listed.find((k: any) => k.kid === key.kid), { alg: key.alg, active: true, retired_at: null });
  const again = await json(['keys', 'rotate']);
  const after = (await json(['keys', 'list'])).keys;
  for (const key of rotated.keys) t.false(after.find((k: any) => k.kid === key.kid).active);
  for (const key of again.keys) t.true(after.find((k: any) => k.kid === key.kid).active);
});

test.serial('deletes, and usage errors are one line', async (t) => {
  t.like(await json(['clients', 'delete', state.webId!]), { deleted: true, client_id: state.webId });
  await fails(t, ['clients', 'delete', state.webId!], /unknown client/);
  await fails(t, ['clients', 'show', state.webId!], /^latchkey: unknown client [\w-]+\n$/);
  const deleted = await json(['apis', 'delete', 'https://api.example.com']);
  t.like(deleted, { deleted: true, identifier: 'https://api.example.com' });
  t.is(deleted.affected_client_ids.length, 1, 'the private_key_jwt client held a grant on it');
  t.is((await query('SELECT count(*)::int AS n FROM client_api_scopes s JOIN apis a ON a.id = s.api_id WHERE a.identifier = $1', ['https://api.example.com']))[0].n, 0);
  await fails(t, ['apis', 'delete', 'https://api.example.com'], /unknown API/);
  await fails(t, ['frobnicate'], /unknown command 'frobnicate'/);
  await fails(t, ['apis'], /'apis' needs a command/);
  await fails(t, ['apis', 'frob'], /unknown command 'apis frob'/);
});

test.serial('--version, help without a doubled [command], unknown options and extra arguments named', async (t) => {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  t.deepEqual(await latchkey(['--version']), { code: 0, stdout: `${version}\n`, stderr: '' });
  for (const group of ['apis', 'clients', 'users', 'keys']) {
    const help = await latchkey([group, '--help']);
    t.is(help.code, 0, help.stderr);
    t.regex(help.stdout, new RegExp(`^Usage: latchkey ${group} <command> \\[options\\]$`, 'm'));
    t.false(help.stdout.includes('[command] [command]'), help.stdout);
  }
  await fails(t, ['--nmae'], /^latchkey: unknown option '--nmae'/);
  await fails(t, ['users', 'create', '--email', 'eve@example.com', '--nmae', 'Eve', '--password-stdin'], /^latchkey: unknown option '--nmae'/, 'a fine passphrase\n');
  await fails(t, ['users', 'list', '--nmae'], /^latchkey: unknown option '--nmae'/);
  await fails(t, ['apis', 'list', 'extra'], /^latchkey: too many arguments for 'list'/);
  t.deepEqual((await json(['users', 'list'])).users.filter((u: any) => u.email === 'eve@example.com'), [], 'nothing created');
});
