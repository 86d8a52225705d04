// needs: postgres
// C56, as a property over generated spellings against real Postgres: for any
// spelling of any address, the account service finds an account if and only
// if the sign-in throttle counts that spelling under the account's own key,
// and creating an account is refused (ConflictError) exactly when a spelling
// of an existing one is used. Spellings come from Unicode case and
// compatibility pairs (İ ı I, ß ẞ ss, ſ, the Kelvin and Angstrom signs,
// ligatures, fullwidth forms, Turkish casing, NFD) and from look-alikes that
// are other letters (Cyrillic і, ѕ, а; í; κ). The seed is printed; replay a
// run with C56_SEED=<seed> node test/run.ts c56-email-spellings.
import test from 'ava';
import { randomBytes, randomInt } from 'node:crypto';
import { pino } from 'pino';
import { createAccountService, type AccountService } from '../../server/accounts/account-service.ts';
import type { Account } from '../../server/accounts/types.ts';
import { loadConfig } from '../../server/config/index.ts';
import { ConflictError } from '../../server/errors.ts';
import { createSignInThrottle } from '../../server/throttle/sign-in-throttle.ts';
import { openAccountDatabase, type AccountDatabase } from '../helpers/account-database.ts';

const SEED = Number(process.env.C56_SEED ?? randomInt(2 ** 31));
const ACCOUNTS = 10;
const LOOKUPS_PER_ACCOUNT = 40;
const CREATES_PER_ACCOUNT = 3;

/** mulberry32: small, seedable, good enough to pick spellings. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), state | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One letter (or letter pair) of an address: spellings of it, and other letters that look like it. */
interface Unit { same: string[]; others: string[] }
const UNITS: Unit[] = [
  { same: ['i', 'I', 'İ', 'ı', 'I\u0307', 'i\u0307', 'ｉ', 'Ｉ'], others: ['í', 'і', 'ɪ'] },
  { same: ['s', 'S', 'ſ', 'ｓ', 'Ｓ'], others: ['ѕ', 'ś'] },
  { same: ['ss', 'SS', 'Ss', 'ß', 'ẞ', 'ſs', 'sſ', 'ſſ'], others: ['s', 'β'] },
  { same: ['k', 'K', '\u212A', 'ｋ', 'Ｋ'], others: ['κ', 'ĸ'] },
  { same: ['å', 'Å', '\u212B', 'a\u030A', 'A\u030A'], others: ['a', 'ä'] },
  { same: ['a', 'A', 'ａ', 'Ａ'], others: ['а', 'ɑ'] },
  { same: ['fi', 'FI', 'Fi', 'ﬁ', 'ｆｉ'], others: ['f', 'ﬂ'] },
  { same: ['st', 'ST', 'ﬆ', 'ﬅ'], others: ['șt'] },
  { same: ['σ', 'Σ', 'ς'], others: ['ο'] },
  { same: ['n', 'N', 'ｎ'], others: ['ñ'] },
  { same: ['o', 'O'], others: ['0', 'ο'] },
];
const DOMAINS = ['example.com', 'EXAMPLE.COM', 'Example.Com', 'ｅｘａｍｐｌｅ.com', 'example．com'];
const WHOLE: ((value: string) => string)[] = [
  (v) => v, (v) => v, (v) => v, (v) => v.toUpperCase(), (v) => v.toLowerCase(), (v) => v.toLocaleUpperCase('tr'),
  (v) => v.toLocaleLowerCase('tr'), (v) => v.normalize('NFD'), (v) => v.normalize('NFKD'), (v) => ` ${v}\t`,
];

const pick = <T>(next: () => number, list: T[]): T => list[Math.floor(next() * list.length)];

interface Address { units: Unit[]; tag: string }
interface Spelling { email: string; other: boolean }

/** A spelling of `address`: each unit spelled some way, now and then as another letter. */
function spell(next: () => number, address: Address, options: { others: boolean; forCreate?: boolean }): Spelling {
  let other = false;
  const local = address.units.map((unit) => {
    if (options.others && unit.others.length && next() < 0.08) {
      other = true;
      return pick(next, unit.others);
    }
    return pick(next, unit.same);
  }).join('');
  const at = !options.forCreate && next() < 0.1 ? '＠' : '@';
  const email = `${local}${address.tag}${at}${pick(next, DOMAINS)}`;
  return { email: options.forCreate ? email : pick(next, WHOLE)(email), other };
}

const config = loadConfig({ NODE_ENV: 'test' });
const throttle = createSignInThrottle({ keyPrefix: 'c56:', emailHashKey: randomBytes(32), logger: pino({ level: 'silent' }) });
const key = (email: string) => throttle.emailKey(email);
const password = () => `Tq-${randomBytes(12).toString('base64url')}`;

let database: AccountDatabase;
let accounts: AccountService;
test.before(async () => {
  database = await openAccountDatabase('c56');
  accounts = createAccountService(database.db, config);
});
test.after.always(async () => { await database?.close(); });

test('C56: a spelling finds an account if and only if the throttle counts it under that account\'s key; creating one is refused exactly then', async (t) => {
  t.log(`seed ${SEED} (replay: C56_SEED=${SEED} node test/run.ts c56-email-spellings)`);
  const next = random(SEED);
  const stored: Account[] = [];
  const addresses: Address[] = [];

  /** The property for one spelling: found ⇔ same key, for every stored account. */
  async function checkLookup(email: string, label: string): Promise<Account | undefined> {
    const found = await accounts.findByEmail(email);
    for (const account of stored) {
      const sameKey = key(email) === key(account.email);
      t.is(found?.id === account.id, sameKey, `${label}: ${JSON.stringify(email)} vs stored ${JSON.stringify(account.email)} (found ${found?.email ?? 'nothing'})`);
    }
    if (found) t.true(stored.some((a) => a.id === found.id && a.email === found.email), 'found as stored, email as typed');
    return found;
  }

  for (let n = 0; n < ACCOUNTS; n++) {
    const address = { units: Array.from({ length: 3 + Math.floor(next() * 4) }, () => pick(next, UNITS)), tag: String(n) };
    addresses.push(address);
    // Stored as typed, in some spelling of its own.
    const { email } = spell(next, address, { others: false, forCreate: true });
    stored.push(await accounts.create({ email, password: password() }));
  }

  let found = 0;
  let missed = 0;
  for (const [n, address] of addresses.entries()) {
    const account = stored[n];
    for (let i = 0; i < LOOKUPS_PER_ACCOUNT; i++) {
      const { email, other } = spell(next, address, { others: true });
      const hit = await checkLookup(email, `lookup ${n}.${i}`);
      // Spellings made only of case and compatibility forms are the account; another letter is not.
      if (other) t.not(hit?.id, account.id, `${JSON.stringify(email)} has another letter than ${JSON.stringify(account.email)}`);
      else t.is(hit?.id, account.id, `${JSON.stringify(email)} is a spelling of ${JSON.stringify(account.email)}`);
      if (hit) found++;
      else missed++;
    }
  }

  let refused = 0;
  let created = 0;
  for (const address of [...addresses]) {
    for (let i = 0; i < CREATES_PER_ACCOUNT; i++) {
      const { email } = spell(next, address, { others: true, forCreate: true });
      const owner = stored.find((a) => key(a.email) === key(email));
      try {
        const account = await accounts.create({ email, password: password() });
        t.is(owner, undefined, `${JSON.stringify(email)} was created although ${JSON.stringify(owner?.email)} exists`);
        stored.push(account);
        created++;
        // The new account is now what its own spellings find.
        t.is((await checkLookup(email.toUpperCase(), 'after create'))?.id, account.id);
      } catch (error) {
        t.true(error instanceof ConflictError, `${JSON.stringify(email)}: ${(error as Error).message}`);
        t.is((error as Error).message, 'an account with this email already exists');
        t.not(owner, undefined, `${JSON.stringify(email)} was refused though no stored account has its key`);
        refused++;
      }
    }
  }
  t.log(`${found} lookups found an account, ${missed} found none; ${refused} creations refused, ${created} created`);
  t.true(found > 0 && missed > 0 && refused > 0, 'both outcomes were exercised');
});
