// needs: postgres
// Recovery codes: 10 codes of 80 bits, shown once, stored as keyed hashes,
// each usable once, all voided by a regeneration.
import test from 'ava';
import { deriveKey } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { createRecoveryCodes, normalizeRecoveryCode, RECOVERY_ALPHABET } from '../../server/mfa/recovery/recovery-codes.ts';
import { openAccountDatabase, type AccountDatabase } from '../helpers/account-database.ts';

let db: Database;
let accountDb: AccountDatabase;
const hashKey = deriveKey(Buffer.alloc(32, 9), 'client-secret-hash');

test.before(async () => {
  accountDb = await openAccountDatabase('recovery');
  db = accountDb.db;
});
test.after.always(() => accountDb?.close());

const newAccount = async () => (await accountDb.newAccount()).id;
const codes = () => createRecoveryCodes({ db, hashKey });

const FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

test('ten distinct codes of 16 characters from a 32-character alphabet: 80 bits each', async (t) => {
  t.is(new Set(RECOVERY_ALPHABET).size, 32);
  t.notRegex(RECOVERY_ALPHABET, /[ilou]/); // nothing that reads as another character
  const accountId = await newAccount();
  const issued = await codes().regenerate(accountId);
  t.is(issued.length, 10);
  t.is(new Set(issued).size, 10);
  for (const code of issued) {
    t.regex(code, FORMAT);
    t.is(code.replaceAll('-', '').length * Math.log2(RECOVERY_ALPHABET.length), 80);
  }
  t.is(await codes().remaining(accountId), 10);
  // Across many codes every character of the alphabet turns up: the generator is not stuck on a subset.
  const many = (await Promise.all([1, 2, 3, 4, 5].map(async () => codes().regenerate(accountId)))).flat().join('');
  t.is(new Set(many.replaceAll('-', '')).size, 32);
});

test('a code works once, and says how many remain', async (t) => {
  const accountId = await newAccount();
  const [first, second] = await codes().regenerate(accountId);
  t.deepEqual(await codes().use(accountId, first), { remaining: 9 });
  t.is(await codes().use(accountId, first), undefined);
  t.deepEqual(await codes().use(accountId, second), { remaining: 8 });
  t.is(await codes().remaining(accountId), 8);
});

test('two requests racing with one code: only one succeeds', async (t) => {
  const accountId = await newAccount();
  const [code] = await codes().regenerate(accountId);
  const results = await Promise.all([1, 2, 3, 4, 5].map(() => codes().use(accountId, code)));
  t.deepEqual(results.filter(Boolean), [{ remaining: 9 }]);
});

test('any case, spaces and dashes are accepted', async (t) => {
  const accountId = await newAccount();
  const issued = await codes().regenerate(accountId);
  t.truthy(await codes().use(accountId, issued[0].toUpperCase()));
  t.truthy(await codes().use(accountId, issued[1].replaceAll('-', '')));
  t.truthy(await codes().use(accountId, ` ${issued[2].replaceAll('-', ' ')} `));
  t.truthy(await codes().use(accountId, issued[3].toUpperCase().replaceAll('-', '')));
  t.is(await codes().remaining(accountId), 6);
  // Crockford reading: o is 0, i and l are 1.
  t.is(normalizeRecoveryCode('O1IL-abcd-efgh-jkmn'), '0111abcdefghjkmn');
});

test('regenerating voids every earlier code', async (t) => {
  const accountId = await newAccount();
  const old = await codes().regenerate(accountId);
  await codes().use(accountId, old[0]);
  const fresh = await codes().regenerate(accountId);
  t.is(await codes().remaining(accountId), 10);
  for (const code of old) t.is(await codes().use(accountId, code), undefined);
  t.deepEqual(await codes().use(accountId, fresh[0]), { remaining: 9 });
  t.is((await db.query('SELECT 1 FROM recovery_codes WHERE account_id = $1', [accountId])).rowCount, 10);
});

test('concurrent regenerations leave exactly one set', async (t) => {
  const accountId = await newAccount();
  const sets = await Promise.all([1, 2, 3].map(() => codes().regenerate(accountId)));
  t.is(await codes().remaining(accountId), 10);
  const working = [];
  for (const set of sets) if (await codes().use(accountId, set[0])) working.push(set);
  t.is(working.length, 1);
});

test('codes are stored as keyed hashes, never in clear', async (t) => {
  const accountId = await newAccount();
  const issued = await codes().regenerate(accountId);
  const { rows } = await db.query<{ row: string; code_hash: string }>('SELECT r::text AS row, code_hash FROM recovery_codes r WHERE account_id = $1', [accountId]);
  t.is(rows.length, 10);
  for (const { row, code_hash: hash } of rows) {
    t.regex(hash, /^hmac-sha256\$/);
    for (const code of issued) {
      t.false(row.includes(code));
      t.false(row.includes(code.replaceAll('-', '')));
      t.false(row.toLowerCase().includes(code.replaceAll('-', '').toUpperCase().toLowerCase()));
    }
  }
  // Another key cannot use them: the hash is keyed.
  const otherKey = createRecoveryCodes({ db, hashKey: deriveKey(Buffer.alloc(32, 10), 'client-secret-hash') });
  t.is(await otherKey.use(accountId, issued[0]), undefined);
});

test('codes belong to their account; garbage is refused quickly', async (t) => {
  const alice = await newAccount();
  const bob = await newAccount();
  const [code] = await codes().regenerate(alice);
  t.is(await codes().use(bob, code), undefined);
  for (const bad of ['', 'x', code.slice(0, -1), `${code}a`, 'u'.repeat(16), '\u0000'.repeat(16), 'a'.repeat(10_000)]) {
    t.is(await codes().use(alice, bad), undefined, JSON.stringify(bad.slice(0, 20)));
  }
  t.is(await codes().use('not-a-uuid', code), undefined);
  t.is(await codes().remaining('not-a-uuid'), 0);
  t.is(await codes().remaining(alice), 10);
});
