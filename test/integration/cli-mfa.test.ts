// needs: postgres
// The MFA admin commands: clients create/update MFA settings, users require-mfa
// and reset-mfa, run as the real CLI against a fresh database.
import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli, type CliResult } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/services.ts';

const tmp = mkdtempSync(join(tmpdir(), 'latchkey-cli-mfa-'));
let env: Record<string, string>;
let dropDatabase: () => Promise<void>;

const cli = (args: string[], stdin?: string): Promise<CliResult> => runCli(env, args, { stdin });

async function json(args: string[], stdin?: string): Promise<any> {
  const run = await cli([...args, '--json'], stdin);
  if (run.code !== 0) throw new Error(`latchkey ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.json();
}

/** Expects exit 1, nothing on stdout and one stderr line "latchkey: ..." matching `message`. */
async function fails(t: any, args: string[], message: RegExp): Promise<void> {
  const run = await cli(args);
  t.is(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
  t.is(run.stdout, '');
  t.regex(run.stderr, /^latchkey: [^\n]+\n$/);
  t.regex(run.stderr, message);
}

async function query(sql: string, params: unknown[] = []): Promise<any[]> {
  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const generation = async (): Promise<number> => Number((await query('SELECT generation FROM cache_generation'))[0].generation);

test.before(async () => {
  const database = await createTestDatabase();
  dropDatabase = database.drop;
  env = {
    DATABASE_URL: database.url,
    LATCHKEY_SECRET: randomBytes(32).toString('base64'),
    NODE_ENV: 'test',
    DATA_DIR: tmp,
    LOG_LEVEL: 'silent',
  };
});
test.after.always(async () => {
  await dropDatabase?.();
  rmSync(tmp, { recursive: true, force: true });
});

const state: { updatedId?: string; created?: any } = {};
const webArgs = ['clients', 'create', '--name', 'Web', '--grant', 'authorization_code', '--redirect-uri', 'https://app.example.com/cb'];

test.serial('clients create: MFA defaults, --require-mfa and --no-trusted-devices', async (t) => {
  const plain = await json(webArgs);
  t.like(plain, { require_mfa: false, trusted_devices: true });
  t.like(await json(['clients', 'show', plain.client_id]), { require_mfa: false, trusted_devices: true });

  const strict = await json([...webArgs, '--require-mfa', '--no-trusted-devices']);
  t.like(strict, { require_mfa: true, trusted_devices: false });
  t.like(await json(['clients', 'show', strict.client_id]), { require_mfa: true, trusted_devices: false });
  const row = (await query('SELECT require_mfa, trusted_devices FROM clients WHERE client_id = $1', [strict.client_id]))[0];
  t.deepEqual(row, { require_mfa: true, trusted_devices: false });

  const text = await cli(['clients', 'show', strict.client_id]);
  t.regex(text.stdout, /^require_mfa\s+yes$/m);
  t.regex(text.stdout, /^trusted_devices\s+no$/m);
  const list = await cli(['clients', 'list']);
  t.regex(list.stdout, /^CLIENT_ID\s+NAME\s+AUTH\s+REQUIRE_MFA\s+TRUSTED_DEVICES\s+GRANTS\n/);
  t.regex(list.stdout, new RegExp(`^${strict.client_id}\\s+Web\\s+client_secret_basic\\s+yes\\s+no\\s+authorization_code$`, 'm'));
  t.like((await json(['clients', 'list'])).clients.find((c: any) => c.client_id === strict.client_id), { require_mfa: true, trusted_devices: false });
});

test.serial('clients update changes each field, and running servers are told (cache_generation)', async (t) => {
  const created = await json([...webArgs, '--post-logout-redirect-uri', 'https://app.example.com/']);
  const id = created.client_id;
  const before = await generation();

  t.like(await json(['clients', 'update', id, '--name', '  Web Two  ']), { name: 'Web Two' });
  t.true(await generation() > before, 'the update bumps cache_generation');

  const uris = await json(['clients', 'update', id, '--redirect-uri', 'https://new.example.com/cb', '--redirect-uri', 'http://127.0.0.1:8080/cb']);
  t.deepEqual(uris.redirect_uris, ['https://new.example.com/cb', 'http://127.0.0.1:8080/cb']);
  t.deepEqual(uris.post_logout_redirect_uris, ['https://app.example.com/'], 'untouched');
  t.deepEqual((await json(['clients', 'update', id, '--post-logout-redirect-uri', 'https://new.example.com/bye'])).post_logout_redirect_uris,
    ['https://new.example.com/bye']);
  t.deepEqual((await json(['clients', 'update', id, '--no-post-logout-redirect-uri'])).post_logout_redirect_uris, []);
  state.updatedId = id;
  state.created = created;
});

test.serial('clients update switches first-party, require-mfa and trusted-devices on and off', async (t) => {
  const id = state.updatedId!;
  const created = state.created;
  t.true((await json(['clients', 'update', id, '--first-party'])).first_party);
  t.false((await json(['clients', 'update', id, '--no-first-party'])).first_party);
  t.true((await json(['clients', 'update', id, '--require-mfa'])).require_mfa);
  t.false((await json(['clients', 'update', id, '--no-require-mfa'])).require_mfa);
  t.false((await json(['clients', 'update', id, '--no-trusted-devices'])).trusted_devices);
  t.true((await json(['clients', 'update', id, '--trusted-devices'])).trusted_devices);

  const several = await json(['clients', 'update', id, '--require-mfa', '--no-trusted-devices', '--first-party']);
  t.like(several, {
    client_id: id, name: 'Web Two', require_mfa: true, trusted_devices: false, first_party: true,
    grant_types: created.grant_types, token_endpoint_auth_method: created.token_endpoint_auth_method, created_at: created.created_at,
  });
  t.deepEqual(await json(['clients', 'show', id]), several);
  t.false('client_secret' in several);
  const stored = (await query('SELECT secret_hash FROM clients WHERE client_id = $1', [id]))[0];
  t.truthy(stored.secret_hash, 'the secret is kept');

  const text = await cli(['clients', 'update', id, '--name', 'Web']);
  t.is(text.code, 0);
  t.regex(text.stdout, /^Client updated\.\nclient_id\s+/);
  t.regex(text.stdout, /^name\s+Web$/m);
});

test.serial('clients update refuses bad changes in one line and changes nothing', async (t) => {
  const { client_secret: _secret, ...created } = await json([...webArgs, '--require-mfa']);
  const id = created.client_id;
  const before = await generation();

  await fails(t, ['clients', 'update', id], /nothing to update: give at least one of --name/);
  await fails(t, ['clients', 'update', 'no-such-client', '--name', 'X'], /^latchkey: unknown client no-such-client\n$/);
  await fails(t, ['clients', 'update', id, '--redirect-uri', 'http://example.com/cb'], /redirect URI http:\/\/example\.com\/cb must use https/);
  await fails(t, ['clients', 'update', id, '--name', 'Renamed', '--no-require-mfa', '--redirect-uri', 'https://ok.example.com/cb', '--redirect-uri', 'not a uri'],
    /redirect URI "not a uri" must be an absolute URI/);
  await fails(t, ['clients', 'update', id, '--redirect-uri', 'https://ok.example.com/cb#frag'], /must not contain a fragment/);
  await fails(t, ['clients', 'update', id, '--post-logout-redirect-uri', 'ftp://example.com/'], /post-logout redirect URI ftp:\/\/example\.com\/ uses the scheme/);
  await fails(t, ['clients', 'update', id, '--redirect-uri', 'com.example.app:/cb', '--redirect-uri', 'https://localhost/cb'], /native app redirect URI/);
  await fails(t, ['clients', 'update', id, '--name', '   '], /a client needs a name/);
  await fails(t, ['clients', 'update', id, '--grant', 'client_credentials'], /unknown option '--grant'/);

  t.deepEqual(await json(['clients', 'show', id]), created, 'nothing changed');
  t.is(await generation(), before, 'no write reached the table');
});

test.serial('clients update keeps the create rules: no redirect URIs without authorization_code', async (t) => {
  await json(['apis', 'create', '--identifier', 'https://worker.example.com', '--scope', 'jobs:run']);
  const m2m = await json(['clients', 'create', '--name', 'Worker', '--grant', 'client_credentials', '--api', 'https://worker.example.com']);
  await fails(t, ['clients', 'update', m2m.client_id, '--redirect-uri', 'https://app.example.com/cb'], /redirect URIs are only used by authorization_code/);
  t.deepEqual((await json(['clients', 'show', m2m.client_id])).redirect_uris, []);
});

test.serial('users require-mfa turns the requirement on and off', async (t) => {
  const user = await json(['users', 'create', '--email', 'Ann@Example.com', '--name', 'Ann', '--password-stdin'], 'correct horse battery\n');
  t.false(user.require_mfa);

  const on = await json(['users', 'require-mfa', 'ann@example.com']);
  t.like(on, { id: user.id, require_mfa: true });
  t.true((await query('SELECT require_mfa FROM accounts WHERE id = $1', [user.id]))[0].require_mfa);
  t.like(await json(['users', 'show', user.id]), { require_mfa: true, factors: [] });
  t.true((await json(['users', 'list'])).users.find((u: any) => u.id === user.id).require_mfa);
  const list = await cli(['users', 'list']);
  t.regex(list.stdout, /^ID\s+EMAIL\s+NAME\s+VERIFIED\s+STATUS\s+REQUIRE_MFA\n/);
  t.regex(list.stdout, /Ann@Example\.com\s+Ann\s+no\s+enabled\s+yes$/m);
  const shown = await cli(['users', 'show', 'ann@example.com']);
  t.regex(shown.stdout, /^require_mfa\s+yes$/m);
  t.regex(shown.stdout, /^factors\s+\(none\)$/m);

  const text = await cli(['users', 'require-mfa', user.id]);
  t.regex(text.stdout, /must now sign in with a second factor/);

  const off = await cli(['users', 'require-mfa', user.id, '--off']);
  t.is(off.code, 0);
  t.regex(off.stdout, /no longer has to use a second factor/);
  t.false((await json(['users', 'show', user.id])).require_mfa);
  t.false((await json(['users', 'require-mfa', user.id, '--off'])).require_mfa, 'idempotent');

  await fails(t, ['users', 'require-mfa', 'nobody@example.com'], /^latchkey: unknown user nobody@example\.com\n$/);
  await fails(t, ['users', 'require-mfa', randomUUID()], /unknown user/);
});

async function giveFactors(accountId: string): Promise<void> {
  await query(`INSERT INTO totp_factors (id, account_id, name, secret_encrypted, last_used_at) VALUES ($1, $2, 'Phone', 'v1.x.y.z', now())`,
    [randomUUID(), accountId]);
  await query(`INSERT INTO webauthn_credentials (id, account_id, name, credential_id, public_key, device_type, backed_up)
               VALUES ($1, $2, 'YubiKey', $3, '\\x00'::bytea, 'singleDevice', false),
                      ($4, $2, 'Laptop passkey', $5, '\\x00'::bytea, 'multiDevice', true)`,
    [randomUUID(), accountId, randomBytes(16).toString('base64url'), randomUUID(), randomBytes(16).toString('base64url')]);
  for (let i = 0; i < 10; i++) {
    await query('INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)', [accountId, randomBytes(16).toString('hex')]);
  }
  await query(`INSERT INTO trusted_devices (id, account_id, token_hash, label, expires_at) VALUES ($1, $2, $3, 'Firefox on Linux', now() + interval '30 days')`,
    [randomUUID(), accountId, randomBytes(16).toString('hex')]);
}

const factorRows = async (accountId: string) => (await query(`
  SELECT (SELECT count(*)::int FROM totp_factors WHERE account_id = $1) AS totp,
         (SELECT count(*)::int FROM webauthn_credentials WHERE account_id = $1) AS webauthn,
         (SELECT count(*)::int FROM recovery_codes WHERE account_id = $1) AS recovery_codes,
         (SELECT count(*)::int FROM trusted_devices WHERE account_id = $1) AS trusted_devices`, [accountId]))[0];

test.serial('users show lists the factors; users reset-mfa removes them all and signs the user out', async (t) => {
  const bo = await json(['users', 'create', '--email', 'bo@example.com', '--name', 'Bo', '--password-stdin'], 'another good passphrase\n');
  const cy = await json(['users', 'create', '--email', 'cy@example.com', '--name', 'Cy', '--password-stdin'], 'yet another passphrase\n');
  await giveFactors(bo.id);
  await giveFactors(cy.id);

  const shown = await json(['users', 'show', 'bo@example.com']);
  t.deepEqual(shown.factors.map((f: any) => [f.kind, f.name]).sort(),
    [['totp', 'Phone'], ['webauthn', 'Laptop passkey'], ['webauthn', 'YubiKey']]);
  t.truthy(shown.factors.find((f: any) => f.name === 'Phone').last_used_at);
  t.is(shown.factors.find((f: any) => f.name === 'YubiKey').last_used_at, null);
  const shownText = await cli(['users', 'show', bo.id]);
  t.regex(shownText.stdout, /^factors\s+\S/m);
  t.regex(shownText.stdout, /Phone \(authenticator app\), last used \d{4}-/);
  t.regex(shownText.stdout, /Laptop passkey \(synced passkey\), last used never/);
  t.regex(shownText.stdout, /YubiKey \(security key\), last used never/);

  const reset = await cli(['users', 'reset-mfa', 'BO@example.com']);
  t.is(reset.code, 0, reset.stderr);
  t.regex(reset.stdout, /^Removed 1 authenticator app, 2 security keys, 10 recovery codes and 1 trusted device from bo@example\.com\.$/m);
  t.regex(reset.stdout, /Signed out bo@example\.com everywhere/);
  t.deepEqual(await factorRows(bo.id), { totp: 0, webauthn: 0, recovery_codes: 0, trusted_devices: 0 });
  t.deepEqual(await factorRows(cy.id), { totp: 1, webauthn: 2, recovery_codes: 10, trusted_devices: 1 }, 'other users keep theirs');
  const after = await json(['users', 'show', bo.id]);
  t.deepEqual(after.factors, []);
  t.truthy(after.sessions_revoked_at, 'sessions ended');
  t.is((await json(['users', 'show', cy.id])).sessions_revoked_at, null);

  const again = await json(['users', 'reset-mfa', bo.id]);
  t.deepEqual(again, {
    id: bo.id, email: 'bo@example.com', sessions_revoked: true,
    removed: { totp: 0, webauthn: 0, recovery_codes: 0, trusted_devices: 0 },
  });
  const counts = await json(['users', 'reset-mfa', cy.id]);
  t.deepEqual(counts.removed, { totp: 1, webauthn: 2, recovery_codes: 10, trusted_devices: 1 });

  await fails(t, ['users', 'reset-mfa', 'nobody@example.com'], /^latchkey: unknown user nobody@example\.com\n$/);
  await fails(t, ['users', 'reset-mfa', 'not-a-uuid'], /unknown user not-a-uuid/);
  await fails(t, ['users', 'reset-mfa'], /missing required argument 'user'/);
});
