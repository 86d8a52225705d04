import test from 'ava';
import { createPasswordHasher } from '../../server/accounts/password-hashing.ts';

const params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const hasher = createPasswordHasher(params);

test('hashes with argon2id and at least the OWASP parameters', async (t) => {
  const hash = await hasher.hashPassword('correct horse battery staple');
  const [, type, version, encoded] = hash.split('$');
  t.is(type, 'argon2id');
  t.is(version, 'v=19');
  const params = Object.fromEntries(encoded.split(',').map((pair) => pair.split('=')).map(([k, v]) => [k, Number(v)]));
  t.true(params.m >= 19456 && params.t >= 2 && params.p >= 1, encoded);
  t.deepEqual(params, { m: 19456, t: 2, p: 1 });
  t.true(await hasher.verifyPassword(hash, 'correct horse battery staple'));
  t.false(await hasher.verifyPassword(hash, 'correct horse battery stapl'));
});

test('salts every hash', async (t) => {
  t.not(await hasher.hashPassword('same password'), await hasher.hashPassword('same password'));
});

test('needsRehash is true once the configured cost rises', async (t) => {
  const hash = await hasher.hashPassword('correct horse battery staple');
  t.false(hasher.needsRehash(hash));
  t.true(createPasswordHasher({ ...params, memoryCost: 65536 }).needsRehash(hash));
  t.true(createPasswordHasher({ ...params, timeCost: 3 }).needsRehash(hash));
  t.true(hasher.needsRehash('$2b$10$somebcrypthashfromanotherdatabasexxxxxxxxxxxxxxxxxxxxx'));
});

test('does not truncate: a 100-character password differing at character 90 fails', async (t) => {
  const password = 'abcdefghij'.repeat(10);
  const changed = `${password.slice(0, 89)}X${password.slice(90)}`;
  t.is(changed.length, 100);
  const hash = await hasher.hashPassword(password);
  t.true(await hasher.verifyPassword(hash, password));
  t.false(await hasher.verifyPassword(hash, changed));
});

test('normalises Unicode so composed and decomposed forms match', async (t) => {
  const hash = await hasher.hashPassword('Åsa café ünïcode');
  t.true(await hasher.verifyPassword(hash, 'A\u030asa cafe\u0301 u\u0308ni\u0308code'));
});

test('a malformed stored hash verifies as false instead of throwing', async (t) => {
  t.false(await hasher.verifyPassword('not a hash', 'whatever'));
});

test('the dummy verify always fails', async (t) => {
  t.false(await hasher.verifyDummy('correct horse battery staple'));
});
