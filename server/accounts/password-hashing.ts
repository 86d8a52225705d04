// argon2id password hashes with the configured cost (OWASP minimum
// m=19456 KiB, t=2, p=1). Passwords are NFKC-normalised first (NIST SP
// 800-63B §5.1.1.2) so the same password typed on another keyboard matches.
import argon2, { type HashOptions } from 'argon2';
import { randomSecret } from '../crypto/secrets.ts';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface PasswordHasher {
  hashPassword(password: string): Promise<string>;
  /** False for a wrong password and for a malformed hash (never throws). */
  verifyPassword(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the current ones. */
  needsRehash(hash: string): boolean;
  /** Verifies against a throwaway hash: an unknown email costs what a wrong password costs. */
  verifyDummy(password: string): Promise<false>;
  /** Prepares the dummy hash ahead of the first sign-in. */
  warmUp(): Promise<void>;
}

const normalise = (password: string): string => password.normalize('NFKC');

export function createPasswordHasher(params: Argon2Params): PasswordHasher {
  const options: HashOptions = { type: argon2.argon2id, ...params };
  const hashPassword = (password: string): Promise<string> => argon2.hash(normalise(password), options);
  async function verifyPassword(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, normalise(password));
    } catch {
      return false;
    }
  }
  // Made once, up front, with the current parameters so it costs the same as
  // a real hash (lazily, the first unknown email would be measurably slower).
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hashPassword(randomSecret()));
  return {
    warmUp: async () => { await dummyHash(); },
    hashPassword,
    verifyPassword,
    needsRehash: (hash) => {
      try {
        return !hash.startsWith('$argon2id$') || argon2.needsRehash(hash, params);
      } catch {
        return true;
      }
    },
    async verifyDummy(password) {
      await verifyPassword(await dummyHash(), password);
      return false;
    },
  };
}
