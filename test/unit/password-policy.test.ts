import test from 'ava';
import { readFileSync } from 'node:fs';
import { checkPassword, MAX_PASSWORD_LENGTH } from '../../server/accounts/password-policy.ts';

test('refuses fewer than 8 characters, counting code points', (t) => {
  t.regex(checkPassword('Tr0ub4!') ?? '', /at least 8/);
  t.regex(checkPassword('日本語のパスワ') ?? '', /at least 8/); // 7 code points
  t.is(checkPassword('日本語のパスワード'), undefined); // 9 code points
  // 4 emoji are 8 UTF-16 units but only 4 characters.
  t.regex(checkPassword('🔒🔑🚪🏠') ?? '', /at least 8/);
});

test('accepts long passphrases without composition rules, up to 1024 characters', (t) => {
  t.is(checkPassword('correct horse battery staple'), undefined);
  t.is(checkPassword('a quiet river under the northern hills at dawn, singing softly to itself'), undefined); // 64+
  const long = 'unguessable passphrase '.repeat(60).slice(0, MAX_PASSWORD_LENGTH);
  t.is([...long].length, 1024);
  t.is(checkPassword(long), undefined);
  t.regex(checkPassword(`${long}x`) ?? '', /at most 1024/);
});

test('accepts any characters, including spaces and non-Latin scripts', (t) => {
  t.is(checkPassword('  leading and trailing spaces  '), undefined);
  t.is(checkPassword('пароль-без-правил'), undefined);
});

test('refuses common passwords, case-insensitively', (t) => {
  for (const password of ['password', 'PASSWORD', '12345678', 'qwertyuiop', 'iloveyou', 'P@ssw0rd', 'letmein1', 'trustno1', 'Password123']) {
    t.regex(checkPassword(password) ?? '', /too common/, password);
  }
});

test('refuses a common word padded with a few digits or symbols', (t) => {
  t.regex(checkPassword('Password2024!') ?? '', /too common/);
  t.regex(checkPassword('!!dragon!!') ?? '', /too common/);
  t.is(checkPassword('dragon fruit smoothie'), undefined);
});

test('refuses one repeated character', (t) => {
  t.regex(checkPassword('zzzzzzzzzzzz') ?? '', /repeated/);
});

test('refuses passwords built on the email or product name', (t) => {
  t.regex(checkPassword('jsmith2024', { email: 'jsmith@example.com' }) ?? '', /email/);
  t.regex(checkPassword('Latchkey rocks', { productName: 'Latchkey' }) ?? '', /site name/);
  t.is(checkPassword('jsmith and a long unrelated phrase', { email: 'jsmith@example.com' }), undefined);
});

test('the shipped list is large and lowercase', (t) => {
  const words = readFileSync(new URL('../../server/accounts/common-passwords.txt', import.meta.url), 'utf8')
    .split('\n').filter((line) => line && !line.startsWith('#'));
  t.true(words.length >= 1000);
  t.true(words.every((word) => word === word.toLowerCase()));
});
