// The one canonical email form (server/accounts/email.ts): which spellings it
// folds together, which it keeps apart, and that it is stable: canonical
// twice is canonical once, and every case variant of every code point
// (default, Turkish and Lithuanian casing, NFD, NFKC) folds like the original.
import test from 'ava';
import { canonicalEmail, emailHash } from '../../server/accounts/email.ts';

test('C56: case, spaces and Unicode spellings of one address fold together', (t) => {
  const same: [string, string][] = [
    [' Ann@Example.COM\t', 'ann@example.com'],
    ['İbis@example.com', 'ibis@example.com'], // I with dot above: i (documented choice)
    ['I\u0307bis@example.com', 'ibis@example.com'], // the same, decomposed
    ['i\u0307bis@example.com', 'ibis@example.com'],
    ['ıbis@example.com', 'ibis@example.com'], // dotless i
    ['straße@example.com', 'strasse@example.com'],
    ['STRAẞE@example.com', 'strasse@example.com'], // capital sharp s
    ['ſam@example.com', 'sam@example.com'], // long s
    ['\u212Aim@example.com', 'kim@example.com'], // Kelvin sign
    ['\u212Bsa@example.com', 'åsa@example.com'], // Angstrom sign
    ['A\u030Asa@example.com', 'åsa@example.com'],
    ['ﬁona@example.com', 'fiona@example.com'], // ligature
    ['ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'ann@example.com'], // fullwidth
    ['ΟΔΟΣ@example.com', 'οδοσ@example.com'], // final sigma: both fold alike
  ];
  for (const [spelling, plain] of same) t.is(canonicalEmail(spelling), canonicalEmail(plain), JSON.stringify(spelling));
  t.is(canonicalEmail('İbis@Example.com'), 'ibis@example.com');
  t.is(canonicalEmail('ẞ'), 'ss');
});

test('C56: different addresses stay different', (t) => {
  const different: [string, string][] = [
    ['ann@example.com', 'anne@example.com'],
    ['ibis@example.com', 'íbis@example.com'],
    ['ibis@example.com', 'іbis@example.com'], // Cyrillic і: another letter, not a case of i
    ['sam@example.com', 'ѕam@example.com'],
    ['a.b@example.com', 'ab@example.com'],
  ];
  for (const [a, b] of different) t.not(canonicalEmail(a), canonicalEmail(b), `${a} / ${b}`);
});

test('C56: lone surrogates read as U+FFFD, as Postgres and a hash would see them', (t) => {
  t.is(canonicalEmail('a\uD800@example.com'), 'a\uFFFD@example.com');
});

test('C56: canonical twice is canonical once, and every case variant of every code point folds alike', (t) => {
  let checked = 0;
  const failures: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const value = `a${String.fromCodePoint(cp)}b`;
    const canonical = canonicalEmail(value);
    const variants = [
      canonical, value.toUpperCase(), value.toLowerCase(), value.toLocaleUpperCase('tr'), value.toLocaleLowerCase('tr'),
      value.toLocaleUpperCase('lt'), value.toLocaleLowerCase('lt'), value.normalize('NFD'), value.normalize('NFKC'),
    ];
    for (const variant of variants) {
      checked++;
      if (canonicalEmail(variant) !== canonical && failures.length < 10) failures.push(`U+${cp.toString(16)}: ${JSON.stringify(variant)}`);
    }
  }
  t.deepEqual(failures, []);
  t.log(`${checked} variants checked`);
});

test('C56: the email hash is keyed and follows the canonical form', (t) => {
  const key = Buffer.alloc(32, 1);
  t.regex(emailHash(key, 'ann@example.com'), /^[0-9a-f]{64}$/);
  t.is(emailHash(key, 'ANN@example.com'), emailHash(key, 'ann@example.com'));
  t.not(emailHash(key, 'ann@example.com'), emailHash(Buffer.alloc(32, 2), 'ann@example.com'));
});
