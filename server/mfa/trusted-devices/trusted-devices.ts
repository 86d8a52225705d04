// Remembered browsers: a 256-bit random token in a cookie stands in for the
// second factor until it expires. Only its keyed hash is stored.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database.ts';
import { hashSecret, randomSecret } from '../../crypto/secrets.ts';
import type { TrustedDevices } from '../types.ts';
import {
  accountsOfTrustedDevices, deleteTrustedDevice, insertTrustedDevice, listTrustedDevices, touchTrustedDevice,
} from './trusted-device-queries.ts';

// A cookie holds a few tokens (one per account signed in on this browser); more is garbage.
const MAX_TOKENS = 20;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const MAX_LABEL = 100;

/** "Chrome on Linux", "Safari on iPhone", ...: what the user sees in the device list. */
export function deviceLabel(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = [
    [/Edg(e|A|iOS)?\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/Firefox\/|FxiOS\//, 'Firefox'],
    [/SamsungBrowser\//, 'Samsung Internet'],
    [/Chrome\/|CriOS\/|Chromium\//, 'Chrome'],
    [/Version\/[\d.]+.*Safari\//, 'Safari'],
  ].find(([pattern]) => (pattern as RegExp).test(ua))?.[1] as string | undefined;
  const os = [
    [/iPhone/, 'iPhone'],
    [/iPad/, 'iPad'],
    [/Android/, 'Android'],
    [/CrOS/, 'ChromeOS'],
    [/Windows/, 'Windows'],
    [/Mac OS X|Macintosh/, 'macOS'],
    [/Linux|X11/, 'Linux'],
  ].find(([pattern]) => (pattern as RegExp).test(ua))?.[1] as string | undefined;
  if (!browser) return 'Unknown browser';
  return os ? `${browser} on ${os}` : browser;
}

export function createTrustedDevices({ db, hashKey }: { db: Queryable; hashKey: Buffer }): TrustedDevices {
  const hash = (token: string) => hashSecret(hashKey, `device:${token}`);
  // Only well-formed tokens are hashed and looked up.
  const hashes = (tokens: string[]) =>
    [...new Set(tokens)].filter((t) => typeof t === 'string' && TOKEN.test(t)).slice(0, MAX_TOKENS).map(hash);
  return {
    async remember(accountId, label, ttlSeconds) {
      if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) throw new Error('a trusted device needs a positive lifetime');
      const token = randomSecret(32);
      // NUL cannot be stored in Postgres text; the label is cosmetic, so it is cleaned rather than refused.
      const clean = [...label.replaceAll('\u0000', '').trim()].slice(0, MAX_LABEL).join('') || 'Unknown browser';
      const device = await insertTrustedDevice(db, { id: randomUUID(), accountId, tokenHash: hash(token), label: clean, ttlSeconds });
      return { token, expiresAt: device.expiresAt };
    },
    isTrusted: (accountId, tokens) => touchTrustedDevice(db, accountId, hashes(tokens)),
    accountIdsFor: (tokens) => accountsOfTrustedDevices(db, hashes(tokens)),
    tokenHashes: hashes,
    list: (accountId) => listTrustedDevices(db, accountId),
    forget: (accountId, id) => deleteTrustedDevice(db, accountId, id),
  };
}
