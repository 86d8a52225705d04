import test from 'ava';
import { decrypt, deriveKey, encrypt, hashSecret, randomSecret, verifySecret } from '../../server/crypto/secrets.ts';

const master = Buffer.alloc(32, 1);

test('random secrets carry 256 bits', (t) => {
  const secret = randomSecret();
  t.is(Buffer.from(secret, 'base64url').length, 32);
  t.not(secret, randomSecret());
});

test('secret hashes are keyed, deterministic and never contain the secret', (t) => {
  const key = deriveKey(master, 'client-secret-hash');
  const secret = randomSecret();
  const hash = hashSecret(key, secret);
  t.regex(hash, /^hmac-sha256\$/);
  t.false(hash.includes(secret));
  t.is(hash, hashSecret(key, secret));
  t.not(hash, hashSecret(deriveKey(master, 'other'), secret));
  t.true(verifySecret(key, secret, hash));
  t.false(verifySecret(key, `${secret}x`, hash));
  t.false(verifySecret(key, '', hash));
});

test('derived keys differ per purpose', (t) => {
  t.notDeepEqual(deriveKey(master, 'a'), deriveKey(master, 'b'));
  t.is(deriveKey(master, 'a').length, 32);
});

test('key encryption round-trips and detects tampering', (t) => {
  const key = deriveKey(master, 'encryption');
  const envelope = encrypt(key, '{"d":"private"}', 'kid-1');
  t.false(envelope.includes('private'));
  t.is(decrypt(key, envelope, 'kid-1'), '{"d":"private"}');
  t.throws(() => decrypt(key, envelope, 'kid-2'));
  t.throws(() => decrypt(deriveKey(master, 'other'), envelope, 'kid-1'));
  const parts = envelope.split('.');
  parts[3] = Buffer.from('{"d":"forged!!"}').toString('base64url');
  t.throws(() => decrypt(key, parts.join('.'), 'kid-1'));
  t.throws(() => decrypt(key, 'garbage'), { message: /unrecognised/ });
});
