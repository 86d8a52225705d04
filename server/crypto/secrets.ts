// Small wrappers over node:crypto: random secrets, keyed hashes, constant-time
// comparison, and AES-256-GCM envelopes. No home-made primitives.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** 256-bit random value, base64url (43 chars). */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** Constant-time string comparison (C42). Lengths leak, contents do not. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    // Compare anyway so the early exit costs the same as a mismatch.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/** Derives an independent 32-byte subkey of the master key for one purpose. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `latchkey:${purpose}`, 32));
}

/**
 * Keyed hash of a high-entropy secret (client secrets). HMAC-SHA256 is the
 * right tool here: a 256-bit random secret cannot be brute-forced, so a slow
 * password hash would only cap token endpoint throughput.
 */
export function hashSecret(key: Buffer, secret: string): string {
  return `hmac-sha256$${createHmac('sha256', keyObject(key)).update(secret).digest('base64url')}`;
}

// Node prepares a raw Buffer key anew on every createHmac (~35 µs); a
// KeyObject made once costs ~4 µs per call. This is on the token path.
const keyObjects = new WeakMap<Buffer, KeyObject>();
function keyObject(key: Buffer): KeyObject {
  let object = keyObjects.get(key);
  if (!object) keyObjects.set(key, (object = createSecretKey(key)));
  return object;
}

/** Is this what hashSecret returns (a hash, not a secret stored by mistake)? */
export const isSecretHash = (value: unknown): value is string =>
  typeof value === 'string' && /^hmac-sha256\$[A-Za-z0-9_-]{43}$/.test(value);

export function verifySecret(key: Buffer, secret: string, stored: string): boolean {
  return safeEqual(hashSecret(key, secret), stored);
}

/** AES-256-GCM envelope: "v1.<iv>.<tag>.<ciphertext>" (base64url parts). */
export function encrypt(key: Buffer, plaintext: string, aad = ''): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function decrypt(key: Buffer, envelope: string, aad = ''): string {
  const [version, iv, tag, data] = envelope.split('.');
  if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('unrecognised encrypted value');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
