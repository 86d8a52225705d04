// needs: postgres redis
// The MFA stores against Postgres (and Redis where they keep state there):
// WebAuthn with a software authenticator, including every refusal the
// security checklist asks for (C39), trusted devices, the factor directory,
// and throttle counts shared between processes.
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { generate } from 'otplib';
import { pino } from 'pino';
import { createAdapterFactory } from '../../server/adapters/index.ts';
import { connectRedis, pingRedis } from '../../server/adapters/redis-connection.ts';
import { deriveKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { createMfaServices, type MfaServices } from '../../server/mfa/index.ts';
import { deleteTrustedDevices } from '../../server/mfa/trusted-devices/trusted-device-queries.ts';
import type { MessageKey } from '../../server/errors.ts';
import { MfaError } from '../../server/mfa/types.ts';
import { createSignInThrottle } from '../../server/throttle/sign-in-throttle.ts';
import { ThrottledError } from '../../server/throttle/types.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services.ts';
import { openAccountDatabase, type AccountDatabase } from '../helpers/account-database.ts';

const ORIGIN = 'https://login.example.com';
const RP_ID = 'login.example.com';
const master = Buffer.alloc(32, 3);
const keyring = { encryption: deriveKey(master, 'encryption'), secretHash: deriveKey(master, 'client-secret-hash'), throttle: deriveKey(master, 'throttle') };
const logger = pino({ level: 'silent' });
const redis = connectRedis(TEST_REDIS_URL);
const prefix = uniqueRedisPrefix();

let db: Database;
let accountDb: AccountDatabase;
const backends: Record<string, MfaServices> = {};

test.before(async () => {
  await pingRedis(redis);
  accountDb = await openAccountDatabase('mfa');
  db = accountDb.db;
  const config = { issuer: `${ORIGIN}/`, productName: 'Latchkey' };
  backends.memory = createMfaServices({ db, keyring, config, adapterFactory: createAdapterFactory({ keyPrefix: prefix }) });
  backends.redis = createMfaServices({ db, keyring, config, adapterFactory: createAdapterFactory({ redis, keyPrefix: prefix }) });
});

test.after.always(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await accountDb?.close();
});

async function newAccount() {
  const account = await accountDb.newAccount();
  return { id: account.id, email: account.email, name: account.name };
}
let bindings = 0;
const binding = () => `interaction-${++bindings}`;

async function refusedWith(t: ExecutionContext, promise: Promise<unknown>, key: MessageKey, why: string) {
  const error = await t.throwsAsync(promise, undefined, why);
  t.true(error instanceof MfaError, `${why}: ${error?.name}`);
  t.is((error as MfaError).messageKey, key, why);
}

for (const [name, services] of Object.entries({ memory: () => backends.memory, redis: () => backends.redis })) {
  /** An account with a registered software authenticator. */
  async function withKey(options: { backedUp?: boolean; userVerified?: boolean } = {}) {
    const { webauthn } = services();
    const account = await newAccount();
    const authenticator = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const uid = binding();
    const factor = await webauthn.register(uid, account.id, 'YubiKey', authenticator.register(await webauthn.registrationOptions(uid, account), options));
    const challenge = async (purpose: 'second-factor' | 'passkey', id = account.id) => {
      const b = binding();
      return { binding: b, options: await webauthn.authenticationOptions(b, purpose, purpose === 'passkey' ? undefined : id) };
    };
    return { webauthn, account, authenticator, factor, challenge };
  }

  test(`${name}: WebAuthn registration options, registration and both kinds of sign-in`, async (t) => {
    const { webauthn } = services();
    const account = await newAccount();
    const authenticator = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const uid = binding();
    const options = await webauthn.registrationOptions(uid, account);
    t.like(options, {
      rp: { id: RP_ID, name: 'Latchkey' },
      user: { id: Buffer.from(account.id.replaceAll('-', ''), 'hex').toString('base64url'), name: account.email, displayName: account.name! },
      attestation: 'none',
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    t.deepEqual(options.excludeCredentials, []);
    const factor = await webauthn.register(uid, account.id, '  YubiKey 5C  ', authenticator.register(options, { userVerified: false }));
    t.like(factor, { kind: 'webauthn', name: 'YubiKey 5C', synced: false, lastUsedAt: null });
    t.deepEqual((await webauthn.registrationOptions(binding(), account)).excludeCredentials?.map((c) => c.id), [authenticator.credentialId]);

    const secondUid = binding();
    const second = await webauthn.authenticationOptions(secondUid, 'second-factor', account.id);
    t.deepEqual(second.allowCredentials?.map((c) => c.id), [authenticator.credentialId]);
    t.is(second.userVerification, 'preferred');
    t.is(second.rpId, RP_ID);
    const viaKey = await webauthn.authenticate(secondUid, 'second-factor', authenticator.authenticate(second, { userVerified: false }), account.id);
    t.like(viaKey, { accountId: account.id, userVerified: false, factor: { id: factor.id, kind: 'webauthn' } });
    t.true(viaKey.factor.lastUsedAt instanceof Date);

    const passkeyUid = binding();
    const passkey = await webauthn.authenticationOptions(passkeyUid, 'passkey');
    t.deepEqual(passkey.allowCredentials ?? [], []);
    t.is(passkey.userVerification, 'required');
    const viaPasskey = await webauthn.authenticate(passkeyUid, 'passkey', authenticator.authenticate(passkey));
    t.like(viaPasskey, { accountId: account.id, userVerified: true, factor: { id: factor.id } });
    const { rows } = await db.query('SELECT sign_count, last_used_at FROM webauthn_credentials WHERE id = $1', [factor.id]);
    t.is(Number(rows[0].sign_count), 2);
    t.truthy(rows[0].last_used_at);
  });

  test(`${name}: a backed-up passkey is marked synced; names are cleaned`, async (t) => {
    const { factor } = await withKey({ backedUp: true });
    t.true(factor.synced);
    const { webauthn } = services();
    const account = await newAccount();
    const uid = binding();
    const response = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid, account));
    t.like(await webauthn.register(uid, account.id, '', response), { name: 'Security key' });
    const uid2 = binding();
    const long = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid2, account));
    t.like(await webauthn.register(uid2, account.id, 'k'.repeat(61), long), { name: 'k'.repeat(60) });
  });

  test(`${name}: the signature counter must grow, unless the authenticator keeps none`, async (t) => {
    const { webauthn, account, authenticator, challenge } = await withKey();
    let c = await challenge('second-factor');
    await webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { counter: 5 }), account.id);
    for (const counter of [5, 4, 0]) {
      c = await challenge('second-factor');
      await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { counter }), account.id), 'mfa.webauthn.failed', `counter ${counter} after 5`);
    }
    c = await challenge('second-factor');
    t.truthy(await webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { counter: 6 }), account.id));

    // Counter 0 at registration and at every use: an authenticator without a counter.
    const zero = await withKey();
    for (let i = 0; i < 2; i++) {
      const z = await zero.challenge('second-factor');
      t.truthy(await zero.webauthn.authenticate(z.binding, 'second-factor', zero.authenticator.authenticate(z.options, { counter: 0 }), zero.account.id));
    }
  });

  test(`${name}: a passkey needs user verification; a second factor does not`, async (t) => {
    const { webauthn, account, authenticator, challenge } = await withKey();
    let c = await challenge('passkey');
    await refusedWith(t, webauthn.authenticate(c.binding, 'passkey', authenticator.authenticate(c.options, { userVerified: false })), 'mfa.webauthn.failed', 'passkey without UV');
    c = await challenge('second-factor');
    t.false((await webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { userVerified: false }), account.id)).userVerified);
    c = await challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { userPresent: false }), account.id), 'mfa.webauthn.failed', 'no user presence');
  });

  test(`${name}: wrong origin, wrong RP ID, a frame, a bad signature: refused`, async (t) => {
    const { webauthn, account, authenticator, challenge } = await withKey();
    const cases: Array<[string, Parameters<SoftAuthenticator['authenticate']>[1]]> = [
      ['other origin', { origin: 'https://evil.example' }],
      ['sub-domain origin', { origin: 'https://evil.login.example.com' }],
      ['http origin', { origin: 'http://login.example.com' }],
      ['other port', { origin: 'https://login.example.com:8443' }],
      ['parent RP ID', { rpId: 'example.com' }],
      ['other RP ID', { rpId: 'evil.example' }],
      ['cross-origin frame', { crossOrigin: true }],
    ];
    for (const [why, options] of cases) {
      const c = await challenge('second-factor');
      await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, options), account.id), 'mfa.webauthn.failed', why);
    }
    const c = await challenge('second-factor');
    const response = authenticator.authenticate(c.options);
    const signature = Buffer.from(response.response.signature, 'base64url');
    signature[signature.length - 1] ^= 1;
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', { ...response, response: { ...response.response, signature: signature.toString('base64url') } }, account.id), 'mfa.webauthn.failed', 'bad signature');

    const reg = await newAccount();
    for (const [why, options] of [['origin', { origin: 'https://evil.example' }], ['RP ID', { rpId: 'evil.example' }], ['frame', { crossOrigin: true }]] as const) {
      const uid = binding();
      const registration = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid, reg), options);
      await refusedWith(t, webauthn.register(uid, reg.id, 'Key', registration), 'mfa.webauthn.failed', `registration, wrong ${why}`);
    }
    t.is((await db.query('SELECT 1 FROM webauthn_credentials WHERE account_id = $1', [reg.id])).rowCount, 0);
  });

  test(`${name}: a challenge is used once, for its binding and purpose only`, async (t) => {
    const { webauthn, account, authenticator, challenge } = await withKey();
    const c = await challenge('second-factor');
    const response = authenticator.authenticate(c.options);
    t.truthy(await webauthn.authenticate(c.binding, 'second-factor', response, account.id));
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', response, account.id), 'mfa.webauthn.failed', 'replayed response');
    // A fresh signature (higher counter) over the used challenge.
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options), account.id), 'mfa.webauthn.failed', 'reused challenge');

    const other = await challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(binding(), 'second-factor', authenticator.authenticate(other.options), account.id), 'mfa.webauthn.failed', 'other binding');
    const forPasskey = await challenge('passkey');
    await refusedWith(t, webauthn.authenticate(forPasskey.binding, 'second-factor', authenticator.authenticate(forPasskey.options), account.id), 'mfa.webauthn.failed', 'other purpose');
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', authenticator.authenticate(c.options, { challenge: 'bm90LWlzc3VlZC1ieS11cy1ldmVy' }), account.id), 'mfa.webauthn.failed', 'made-up challenge');

    // A failed attempt burns its challenge too: no retrying one challenge with variations.
    const burnt = await challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(burnt.binding, 'second-factor', authenticator.authenticate(burnt.options, { origin: 'https://evil.example' }), account.id), 'mfa.webauthn.failed', 'wrong origin');
    await refusedWith(t, webauthn.authenticate(burnt.binding, 'second-factor', authenticator.authenticate(burnt.options), account.id), 'mfa.webauthn.failed', 'challenge burnt by a failure');

    // Registration challenges are single use as well.
    const newcomer = await newAccount();
    const uid = binding();
    const options = await webauthn.registrationOptions(uid, newcomer);
    await webauthn.register(uid, newcomer.id, 'One', new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(options));
    await refusedWith(t, webauthn.register(uid, newcomer.id, 'Two', new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(options)), 'mfa.webauthn.failed', 'registration challenge reused');
  });

  test(`${name}: two requests racing with one assertion: only one passes`, async (t) => {
    const { webauthn, account, authenticator, challenge } = await withKey();
    const c = await challenge('second-factor');
    const response = authenticator.authenticate(c.options);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => webauthn.authenticate(c.binding, 'second-factor', response, account.id)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  test(`${name}: unknown keys and other accounts' keys are unknown; duplicates and garbage refused`, async (t) => {
    const alice = await withKey();
    const bob = await withKey();
    const { webauthn } = alice;
    const stranger = new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    let c = await alice.challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', stranger.authenticate(c.options), alice.account.id), 'mfa.webauthn.unknown', 'unregistered key');
    c = await alice.challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', bob.authenticator.authenticate(c.options), alice.account.id), 'mfa.webauthn.unknown', "Bob's key for Alice");
    c = await alice.challenge('second-factor');
    await refusedWith(t, webauthn.authenticate(c.binding, 'second-factor', alice.authenticator.authenticate(c.options)), 'mfa.webauthn.unknown', 'second factor without an account');
    c = await alice.challenge('passkey');
    await refusedWith(t, webauthn.authenticate(c.binding, 'passkey', bob.authenticator.authenticate(c.options), alice.account.id), 'mfa.webauthn.unknown', 'passkey of another account than expected');
    // A user handle naming another account than the credential's.
    c = await alice.challenge('passkey');
    const swapped = alice.authenticator.authenticate(c.options);
    swapped.response.userHandle = Buffer.from(bob.account.id.replaceAll('-', ''), 'hex').toString('base64url');
    await refusedWith(t, webauthn.authenticate(c.binding, 'passkey', swapped), 'mfa.webauthn.failed', 'user handle of another account');

    const uid = binding();
    const again = alice.authenticator.register(await webauthn.registrationOptions(uid, bob.account));
    await refusedWith(t, webauthn.register(uid, bob.account.id, 'Stolen', again), 'mfa.webauthn.duplicate', 'credential id registered already');

    for (const garbage of [null, {}, { id: 42 }, { id: '' }, { id: 'x'.repeat(5000) }, 'string']) {
      c = await alice.challenge('second-factor');
      await t.throwsAsync(webauthn.authenticate(c.binding, 'second-factor', garbage as never, alice.account.id), { instanceOf: MfaError }, JSON.stringify(garbage));
      await t.throwsAsync(webauthn.register(binding(), alice.account.id, 'x', garbage as never), { instanceOf: MfaError }, JSON.stringify(garbage));
    }
  });
}

test('trusted devices: remember, check, expire, forget', async (t) => {
  const { trustedDevices } = backends.memory;
  const ann = await newAccount();
  const bob = await newAccount();
  const { token, expiresAt } = await trustedDevices.remember(ann.id, 'Chrome on Linux', 3600);
  t.regex(token, /^[A-Za-z0-9_-]{43}$/);
  t.true(Math.abs(expiresAt.getTime() - (Date.now() + 3_600_000)) < 60_000);
  const second = await trustedDevices.remember(ann.id, 'Safari on iPhone', 3600);

  t.true(await trustedDevices.isTrusted(ann.id, [token]));
  t.true(await trustedDevices.isTrusted(ann.id, ['garbage', 'x'.repeat(43), token]));
  t.false(await trustedDevices.isTrusted(bob.id, [token]), "another account's device");
  t.false(await trustedDevices.isTrusted(ann.id, []));
  t.false(await trustedDevices.isTrusted(ann.id, [`${token}x`]));
  t.false(await trustedDevices.isTrusted('not-a-uuid', [token]));
  t.deepEqual(await trustedDevices.accountIdsFor([token, second.token]), [ann.id]);

  const listed = await trustedDevices.list(ann.id);
  t.deepEqual(listed.map((d) => d.label), ['Safari on iPhone', 'Chrome on Linux']);
  t.true(listed[1].lastUsedAt instanceof Date, 'isTrusted records the use');
  t.is(listed[0].lastUsedAt, null);

  const { rows } = await db.query('SELECT d::text AS row, token_hash FROM trusted_devices d WHERE account_id = $1', [ann.id]);
  for (const row of rows) {
    t.regex(row.token_hash, /^hmac-sha256\$/);
    t.false(row.row.includes(token) || row.row.includes(second.token));
  }

  // Expired: neither trusted, nor listed, nor naming its account.
  await db.query("UPDATE trusted_devices SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [rows.find((r) => r.row.includes('Chrome')).token_hash]);
  t.false(await trustedDevices.isTrusted(ann.id, [token]));
  t.deepEqual(await trustedDevices.accountIdsFor([token]), []);
  t.deepEqual((await trustedDevices.list(ann.id)).map((d) => d.label), ['Safari on iPhone']);

  t.false(await trustedDevices.forget(bob.id, listed[0].id), "Bob cannot forget Ann's device");
  t.false(await trustedDevices.forget(ann.id, 'not-a-uuid'));
  t.true(await trustedDevices.forget(ann.id, listed[0].id));
  t.false(await trustedDevices.isTrusted(ann.id, [second.token]));
  t.false(await trustedDevices.forget(ann.id, listed[0].id));

  await trustedDevices.remember(ann.id, 'A', 60);
  await trustedDevices.remember(ann.id, 'B\u0000', 60); // NUL cannot be stored; the label is cleaned
  await trustedDevices.remember(bob.id, 'C', 60);
  // What a new password runs (AccountService.changePassword): every device of the account goes.
  t.is(await deleteTrustedDevices(db, ann.id), 2); // A and B (remember() swept the expired one)
  t.deepEqual(await trustedDevices.list(ann.id), []);
  t.is((await trustedDevices.list(bob.id)).length, 1);
  await t.throwsAsync(trustedDevices.remember(ann.id, 'X', 0));
});

test('trusted devices: a sign-out everywhere ends the devices remembered before it', async (t) => {
  const { trustedDevices } = backends.memory;
  const ann = await newAccount();
  const bob = await newAccount();
  const before = await trustedDevices.remember(ann.id, 'Chrome on Linux', 3600);
  const bobs = await trustedDevices.remember(bob.id, 'Firefox on Windows', 3600);
  t.true(await trustedDevices.isTrusted(ann.id, [before.token]));

  await db.query('UPDATE accounts SET sessions_revoked_at = now() WHERE id = $1', [ann.id]);
  t.false(await trustedDevices.isTrusted(ann.id, [before.token]));
  t.deepEqual(await trustedDevices.accountIdsFor([before.token, bobs.token]), [bob.id]);
  t.deepEqual(await trustedDevices.list(ann.id), [], 'not listed either');
  t.true(await trustedDevices.isTrusted(bob.id, [bobs.token]), "other accounts' devices stay");

  // A device remembered after the sign-out is trusted; remembering sweeps the dead ones.
  const after = await trustedDevices.remember(ann.id, 'Safari on iPhone', 3600);
  t.true(await trustedDevices.isTrusted(ann.id, [before.token, after.token]));
  t.false(await trustedDevices.isTrusted(ann.id, [before.token]));
  t.deepEqual((await trustedDevices.list(ann.id)).map((d) => d.label), ['Safari on iPhone']);
  t.deepEqual(await trustedDevices.accountIdsFor([before.token, after.token]), [ann.id]);
  t.is((await db.query('SELECT 1 FROM trusted_devices WHERE account_id = $1', [ann.id])).rowCount, 1);
});

test('factor directory: list newest first, remove (the last takes the recovery codes), reset', async (t) => {
  const { totp, webauthn, recoveryCodes, trustedDevices, factors } = backends.memory;
  const account = await newAccount();
  const other = await newAccount();
  t.false(await factors.hasFactors(account.id));
  t.deepEqual(await factors.list(account.id), []);

  const { secret } = await totp.setup(account.email);
  const app = await totp.confirm(account.id, 'Phone', secret, await generate({ secret }));
  t.truthy(app);
  await new Promise((resolve) => setTimeout(resolve, 5)); // distinct created_at
  const uid = binding();
  const key = await webauthn.register(uid, account.id, 'Key', new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid, account)));
  await recoveryCodes.regenerate(account.id);
  await trustedDevices.remember(account.id, 'Firefox on Windows', 600);

  t.true(await factors.hasFactors(account.id));
  t.deepEqual((await factors.list(account.id)).map((f) => [f.kind, f.name]), [['webauthn', 'Key'], ['totp', 'Phone']]);
  t.false(await factors.hasFactors(other.id));

  t.is(await factors.remove(other.id, key.id), 'not-found', "another account's factor");
  t.is(await factors.remove(account.id, '00000000-0000-4000-8000-000000000000'), 'not-found');
  t.is(await factors.remove(account.id, 'nonsense'), 'not-found');
  t.is(await factors.remove(other.id, key.id, { keepLast: true }), 'not-found');
  t.is(await factors.remove(account.id, key.id), 'removed');
  t.is(await recoveryCodes.remaining(account.id), 10, 'codes stay while a factor remains');
  // Where MFA is mandatory the last factor stays.
  t.is(await factors.remove(account.id, app!.id, { keepLast: true }), 'last-factor');
  t.true(await factors.hasFactors(account.id));
  t.is(await recoveryCodes.remaining(account.id), 10);
  t.is(await factors.remove(account.id, app!.id), 'removed');
  t.is(await recoveryCodes.remaining(account.id), 0, 'the last factor takes the codes along');
  t.false(await factors.hasFactors(account.id));

  // Reset: everything, counted; inside a caller's transaction too (as the CLI does).
  const { secret: s2 } = await totp.setup(account.email);
  await totp.confirm(account.id, 'Phone 2', s2, await generate({ secret: s2 }));
  await recoveryCodes.regenerate(account.id);
  t.deepEqual(await factors.reset(account.id), { totp: 1, webauthn: 0, recoveryCodes: 10, trustedDevices: 1 });
  t.deepEqual(await factors.reset(account.id), { totp: 0, webauthn: 0, recoveryCodes: 0, trustedDevices: 0 });
  const { createFactorDirectory } = await import('../../server/mfa/factor-directory.ts');
  const uid2 = binding();
  await webauthn.register(uid2, other.id, 'Key', new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid2, other)));
  const counts = await db.transaction((tx) => createFactorDirectory(tx).reset(other.id));
  t.deepEqual(counts, { totp: 0, webauthn: 1, recoveryCodes: 0, trustedDevices: 0 });
});

test('factor directory: two concurrent removals of the last two factors with keepLast: one stays', async (t) => {
  const { totp, webauthn, recoveryCodes, factors } = backends.memory;
  /** An account with an authenticator app, a security key and recovery codes. */
  const withTwoFactors = async () => {
    const account = await newAccount();
    const { secret } = await totp.setup(account.email);
    const app = await totp.confirm(account.id, 'Phone', secret, await generate({ secret }));
    const uid = binding();
    const key = await webauthn.register(uid, account.id, 'Key', new SoftAuthenticator({ rpId: RP_ID, origin: ORIGIN }).register(await webauthn.registrationOptions(uid, account)));
    await recoveryCodes.regenerate(account.id);
    return { account, app: app!, key };
  };
  for (let i = 0; i < 4; i++) {
    const { account, app, key } = await withTwoFactors();
    const results = await Promise.all([app.id, key.id].map((id) => factors.remove(account.id, id, { keepLast: true })));
    t.deepEqual([...results].sort(), ['last-factor', 'removed'], `round ${i}`);
    t.is((await factors.list(account.id)).length, 1);
    t.is(await recoveryCodes.remaining(account.id), 10);
  }
  // Without keepLast both go, and the recovery codes with them.
  const { account, app, key } = await withTwoFactors();
  t.deepEqual(await Promise.all([app.id, key.id].map((id) => factors.remove(account.id, id))), ['removed', 'removed']);
  t.false(await factors.hasFactors(account.id));
  t.is(await recoveryCodes.remaining(account.id), 0);
});

test('throttle over Redis: two server processes share the counts', async (t) => {
  const keyPrefix = uniqueRedisPrefix();
  const first = createSignInThrottle({ redis, keyPrefix, emailHashKey: keyring.throttle, logger });
  const second = createSignInThrottle({ redis, keyPrefix, emailHashKey: keyring.throttle, logger });
  try {
    // Attempts are counted before the password is checked: 5 per account and IP pass, the 6th starts a block.
    for (let i = 0; i < 3; i++) await first.passwordAttempt('Ann@Example.com', '192.0.2.1');
    for (let i = 0; i < 2; i++) await second.passwordAttempt('ann@example.com', '192.0.2.1');
    const blocked = await t.throwsAsync(second.passwordAttempt('ann@example.com', '192.0.2.1'));
    t.true(blocked instanceof ThrottledError);
    t.is((blocked as ThrottledError).retryAfterSeconds, 60);
    const refused = await t.throwsAsync(first.passwordAttempt('ann@example.com', '192.0.2.1'));
    t.true(refused instanceof ThrottledError);
    t.true((refused as ThrottledError).retryAfterSeconds >= 59);
    // Keys live under the prefix and never hold the email.
    const keys = await redis.keys(`${keyPrefix}*`);
    t.true(keys.length > 0);
    t.true(keys.every((k) => k.startsWith(`${keyPrefix}throttle:`)), keys.join());
    t.false(keys.some((k) => /ann|example/i.test(k)), keys.join());
    // Nor a plain hash of it: the email part is keyed (a dump cannot be matched against a list of addresses).
    const plain = createHash('sha256').update('ann@example.com').digest('hex');
    t.false(keys.some((k) => k.includes(plain) || k.includes(plain.slice(0, 32))), keys.join());
    t.true(keys.some((k) => k.includes(first.emailKey('ann@example.com'))), keys.join());
    await second.passwordSucceeded('ann@example.com', '192.0.2.1');
    await t.notThrowsAsync(first.passwordAttempt('ann@example.com', '192.0.2.1'));
  } finally {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length) await redis.del(...keys);
  }
});
