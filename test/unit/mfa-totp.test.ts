// needs: postgres
// Authenticator-app codes: the ±1 step window, replay refusal (each step once
// per account, never going back, also across factors with one secret),
// double-submitted enrolments, malformed codes, and the secret encrypted at rest.
import test from 'ava';
import { generate } from 'otplib';
import { randomUUID } from 'node:crypto';
import { decrypt, deriveKey, encrypt } from '../../server/crypto/secrets.ts';
import type { Database } from '../../server/db/database.ts';
import { createTotpFactors, normalizeTotpCode } from '../../server/mfa/totp/totp-factors.ts';
import { openAccountDatabase, type AccountDatabase } from '../helpers/account-database.ts';

let db: Database;
let accountDb: AccountDatabase;
const encryptionKey = deriveKey(Buffer.alloc(32, 7), 'encryption');

test.before(async () => {
  accountDb = await openAccountDatabase('totp');
  db = accountDb.db;
});
test.after.always(() => accountDb?.close());

const newAccount = async () => (await accountDb.newAccount()).id;

// 10 s into a step, so ±30 s tolerance covers exactly one step either side.
const START = (56_666_667 * 30 + 10) * 1000;
const STEP = 30_000;

/** A TOTP store with its own clock, a confirmed factor, and a code generator. */
async function enrolled(name = 'Phone') {
  let clock = START;
  const totp = createTotpFactors({ db, encryptionKey, productName: 'Latchkey Test', now: () => clock });
  const accountId = await newAccount();
  const { secret } = await totp.setup('user@example.com');
  const code = (offsetSteps: number) => generate({ secret, epoch: Math.floor((clock + offsetSteps * STEP) / 1000) });
  const factor = await totp.confirm(accountId, name, secret, await code(0));
  if (!factor) throw new Error('confirm failed');
  return { totp, accountId, secret, factor, code, advance: (steps: number) => { clock += steps * STEP; } };
}

test('the window is one step either side: -2 and +2 refused, -1, 0 and +1 accepted', async (t) => {
  const { totp, accountId, factor, code, advance } = await enrolled();
  advance(10);
  t.is(await totp.verify(accountId, await code(-2)), undefined);
  t.is(await totp.verify(accountId, await code(+2)), undefined);
  t.is((await totp.verify(accountId, await code(-1)))?.id, factor.id);
  // A later code after an earlier accepted step works.
  t.is((await totp.verify(accountId, await code(0)))?.id, factor.id);
  t.is((await totp.verify(accountId, await code(+1)))?.id, factor.id);
});

test('each accepted window position works on its own', async (t) => {
  for (const offset of [-1, 0, 1]) {
    const { totp, accountId, code, advance } = await enrolled();
    advance(5);
    t.truthy(await totp.verify(accountId, await code(offset)), `offset ${offset}`);
  }
});

test('the same code twice is refused, also when both arrive at once', async (t) => {
  const { totp, accountId, code, advance } = await enrolled();
  advance(3);
  const now = await code(0);
  t.truthy(await totp.verify(accountId, now));
  t.is(await totp.verify(accountId, now), undefined);
  advance(3);
  const racing = await code(0);
  const results = await Promise.all([1, 2, 3, 4].map(() => totp.verify(accountId, racing)));
  t.is(results.filter(Boolean).length, 1);
});

test('an earlier step after a later one is refused', async (t) => {
  const { totp, accountId, code, advance } = await enrolled();
  advance(10);
  t.truthy(await totp.verify(accountId, await code(+1)));
  t.is(await totp.verify(accountId, await code(0)), undefined);
  t.is(await totp.verify(accountId, await code(-1)), undefined);
  // Once the clock passes that step, the next one is accepted again.
  advance(1);
  t.is(await totp.verify(accountId, await code(0)), undefined); // still the used step
  t.truthy(await totp.verify(accountId, await code(+1)));
});

test('the code that confirmed the factor cannot sign in', async (t) => {
  const { totp, accountId, code } = await enrolled();
  t.is(await totp.verify(accountId, await code(0)), undefined);
  t.is(await totp.verify(accountId, await code(-1)), undefined);
  t.truthy(await totp.verify(accountId, await code(+1)));
});

test('wrong or malformed codes are refused; spaces are ignored', async (t) => {
  const { totp, accountId, code, advance } = await enrolled();
  advance(4);
  const right = await code(0);
  const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
  for (const bad of [wrong, right.slice(0, 5), `${right}1`, 'abcdef', '', ' ', `${right.slice(0, 5)}x`, '１２３４５６', '12.345', right.replace(/^./, '-')]) {
    t.is(await totp.verify(accountId, bad), undefined, JSON.stringify(bad));
  }
  t.is(await totp.verify('not-a-uuid', right), undefined);
  t.truthy(await totp.verify(accountId, ` ${right.slice(0, 3)} ${right.slice(3)} `));
  t.is(normalizeTotpCode('123 456'), '123456');
  t.is(normalizeTotpCode(undefined), undefined);
  t.is(normalizeTotpCode('1'.repeat(1000)), undefined);
});

test('a code is checked against each of the account\'s factors', async (t) => {
  const first = await enrolled('First');
  const { secret } = await first.totp.setup('user@example.com');
  first.advance(2);
  const epoch = Math.floor((START + 2 * STEP) / 1000);
  const second = await first.totp.confirm(first.accountId, 'Second', secret, await generate({ secret, epoch }));
  t.truthy(second);
  first.advance(1);
  const viaSecond = await first.totp.verify(first.accountId, await generate({ secret, epoch: epoch + 30 }));
  t.is(viaSecond?.id, second!.id);
  t.is(viaSecond?.name, 'Second');
  t.truthy(viaSecond?.lastUsedAt);
  // Steps are used once per account: the first app's code works from the next step on.
  first.advance(1);
  t.truthy(await first.totp.verify(first.accountId, await first.code(0)));
  // Another account's code does nothing here.
  const other = await enrolled();
  other.advance(5);
  t.is(await first.totp.verify(first.accountId, await other.code(0)), undefined);
});

test('confirm refuses a wrong code and stores nothing; names default and are bounded', async (t) => {
  const totp = createTotpFactors({ db, encryptionKey, productName: 'Latchkey Test', now: () => START });
  const accountId = await newAccount();
  const { secret } = await totp.setup('user@example.com');
  const right = await generate({ secret, epoch: START / 1000 });
  t.is(await totp.confirm(accountId, 'x', secret, String((Number(right) + 1) % 1e6).padStart(6, '0')), undefined);
  t.is(await totp.confirm(accountId, 'x', 'not base32!', right), undefined);
  t.is((await db.query('SELECT 1 FROM totp_factors WHERE account_id = $1', [accountId])).rowCount, 0);
  const factor = await totp.confirm(accountId, '   ', secret, right);
  t.like(factor, { kind: 'totp', name: 'Authenticator app' });
  t.true(factor!.createdAt instanceof Date);
  // Names are cleaned, never refused: cut to 60 characters, control characters dropped.
  const { secret: other } = await totp.setup('user@example.com');
  const long = await totp.confirm(accountId, `${'ñ'.repeat(59)}🔑xyz`, other, await generate({ secret: other, epoch: START / 1000 }));
  t.is(long?.name, `${'ñ'.repeat(59)}🔑`);
  const { secret: third } = await totp.setup('user@example.com');
  t.is((await totp.confirm(accountId, ' My\u0000 phone\n', third, await generate({ secret: third, epoch: START / 1000 })))?.name, 'My  phone');
});

test('setup gives an otpauth URI with the product as issuer and a local SVG QR code', async (t) => {
  const totp = createTotpFactors({ db, encryptionKey, productName: 'Latchkey Test' });
  const setup = await totp.setup('ann@example.com');
  t.regex(setup.secret, /^[A-Z2-7]{32}$/);
  const uri = new URL(setup.uri);
  t.is(uri.protocol, 'otpauth:');
  t.is(uri.host, 'totp');
  t.is(decodeURIComponent(uri.pathname), '/Latchkey Test:ann@example.com');
  t.is(uri.searchParams.get('secret'), setup.secret);
  t.is(uri.searchParams.get('issuer'), 'Latchkey Test');
  t.regex(setup.qrSvg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  t.notRegex(setup.qrSvg, /<script|https?:\/\/(?!www\.w3\.org)/);
  t.not((await totp.setup('ann@example.com')).secret, setup.secret);
});

test('the secret is stored encrypted, bound to its row', async (t) => {
  const { secret, factor } = await enrolled();
  const { rows } = await db.query('SELECT t::text AS row, secret_encrypted FROM totp_factors t WHERE id = $1', [factor.id]);
  t.false(rows[0].row.includes(secret));
  t.false(rows[0].row.toLowerCase().includes(secret.toLowerCase()));
  t.regex(rows[0].secret_encrypted, /^v1\./);
  t.is(decrypt(encryptionKey, rows[0].secret_encrypted, `totp:${factor.id}`), secret);
  // Moved to another row (another AAD), the envelope no longer opens.
  t.throws(() => decrypt(encryptionKey, rows[0].secret_encrypted, 'totp:00000000-0000-0000-0000-000000000000'));
});

test('setup with a secret reuses it: same secret, same URI, same QR code', async (t) => {
  const totp = createTotpFactors({ db, encryptionKey, productName: 'Latchkey Test' });
  const first = await totp.setup('ann@example.com');
  const again = await totp.setup('ann@example.com', first.secret);
  t.is(again.secret, first.secret);
  t.true(again.uri.includes(first.secret));
  t.is(again.uri, first.uri);
  t.is(again.qrSvg, first.qrSvg);
  // Not a base32 secret: a fresh one rather than a broken QR code.
  for (const bad of ['', 'not base32!', 'abc']) {
    const fresh = await totp.setup('ann@example.com', bad);
    t.regex(fresh.secret, /^[A-Z2-7]{32}$/, JSON.stringify(bad));
    t.not(fresh.secret, bad);
  }
});

test('a set-up confirmed twice (also at once) makes one factor', async (t) => {
  const totp = createTotpFactors({ db, encryptionKey, productName: 'Latchkey Test', now: () => START });
  const count = async (accountId: string) =>
    (await db.query('SELECT 1 FROM totp_factors WHERE account_id = $1', [accountId])).rowCount;
  for (let i = 0; i < 3; i++) {
    const accountId = await newAccount();
    const { secret } = await totp.setup('user@example.com');
    const code = await generate({ secret, epoch: START / 1000 });
    const results = await Promise.all([1, 2, 3].map((n) => totp.confirm(accountId, `Phone ${n}`, secret, code)));
    t.is(results.filter(Boolean).length, 1);
    t.is(await count(accountId), 1);
    // A later double submit is refused too; another secret is still welcome.
    t.is(await totp.confirm(accountId, 'Again', secret, code), undefined);
    const { secret: other } = await totp.setup('user@example.com');
    t.truthy(await totp.confirm(accountId, 'Tablet', other, await generate({ secret: other, epoch: START / 1000 })));
    t.is(await count(accountId), 2);
  }
});

test('a used step is refused on every factor of the account, even one with the same secret', async (t) => {
  const { totp, accountId, secret, factor, code, advance } = await enrolled();
  // A twin row with the same secret that never used a step (as a double-submitted enrolment left before).
  const twinId = randomUUID();
  await db.query(
    'INSERT INTO totp_factors (id, account_id, name, secret_encrypted) VALUES ($1, $2, $3, $4)',
    [twinId, accountId, 'Twin', encrypt(encryptionKey, secret, `totp:${twinId}`)]);
  advance(3);
  const used = await code(0);
  t.truthy(await totp.verify(accountId, used));
  t.is(await totp.verify(accountId, used), undefined, 'not again through the twin');
  t.is(await totp.verify(accountId, await code(-1)), undefined, 'nor an earlier step');
  // Concurrent submissions of one code, with two rows able to accept it.
  advance(3);
  const racing = await code(0);
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map(() => totp.verify(accountId, racing)));
  t.is(results.filter(Boolean).length, 1, 'two rows with one secret still accept a code once');
  const { rows } = await db.query('SELECT max(last_used_step)::int AS step FROM totp_factors WHERE account_id = $1', [accountId]);
  t.is(rows[0].step, Math.floor((START + 6 * STEP) / STEP));
  advance(1);
  t.truthy(await totp.verify(accountId, await code(0)));
  t.is((await db.query('SELECT 1 FROM totp_factors WHERE id = ANY($1::uuid[])', [[factor.id, twinId]])).rowCount, 2);
});

test('separate authenticator apps work independently, each for a later step', async (t) => {
  const phone = await enrolled('Phone');
  const { secret } = await phone.totp.setup('user@example.com');
  const tabletCode = (steps: number) => generate({ secret, epoch: Math.floor((START + steps * STEP) / 1000) });
  const tablet = await phone.totp.confirm(phone.accountId, 'Tablet', secret, await tabletCode(0));
  t.truthy(tablet);
  phone.advance(3);
  t.is((await phone.totp.verify(phone.accountId, await phone.code(0)))?.id, phone.factor.id);
  // The tablet's code for the step the phone just used: that step is spent for the account.
  t.is(await phone.totp.verify(phone.accountId, await tabletCode(3)), undefined);
  phone.advance(1);
  t.is((await phone.totp.verify(phone.accountId, await tabletCode(4)))?.id, tablet!.id);
  phone.advance(1);
  t.is((await phone.totp.verify(phone.accountId, await phone.code(0)))?.id, phone.factor.id);
  phone.advance(1);
  t.is((await phone.totp.verify(phone.accountId, await tabletCode(6)))?.id, tablet!.id);
});
