// WebAuthn challenges: single use, and only for the ceremony (purpose) and
// the interaction or session (binding) they were issued to. Kept in the
// oidc-provider store (Redis or memory) so every process sees them.
import { createHash } from 'node:crypto';
import type { AdapterFactory } from '../../adapters/index.ts';
import type { ChallengePurpose } from '../types.ts';

export const CHALLENGE_TTL = 300;
const MODEL = 'WebAuthnChallenge';

export interface ChallengeStore {
  issue(purpose: ChallengePurpose, binding: string, challenge: string): Promise<void>;
  /**
   * simplewebauthn's `expectedChallenge`: resolves true at most once per
   * issued challenge, and only for the same purpose and binding.
   */
  verifier(purpose: ChallengePurpose, binding: string): (challenge: string) => Promise<boolean>;
}

// Challenges are 32 random bytes from simplewebauthn; bound the key size for anything else.
const plausible = (challenge: unknown): challenge is string =>
  typeof challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(challenge);

export function createChallengeStore(adapterFactory: AdapterFactory): ChallengeStore {
  const adapter = adapterFactory(MODEL);
  // The binding may be a session id: the store only ever holds its digest.
  const key = (purpose: ChallengePurpose, binding: string, challenge: string) =>
    `${purpose}:${createHash('sha256').update(binding).digest('base64url')}:${challenge}`;
  return {
    async issue(purpose, binding, challenge) {
      await adapter.upsert(key(purpose, binding, challenge), { purpose }, CHALLENGE_TTL);
    },
    verifier(purpose, binding) {
      return async (challenge) => {
        if (!plausible(challenge)) return false;
        const id = key(purpose, binding, challenge);
        if (!(await adapter.find(id))) return false;
        // Atomic single use: insertIfAbsent is SET NX in Redis (synchronous in
        // memory), so of two requests racing with one challenge exactly one
        // writes the marker. (consume() would not do: the Redis adapter keeps
        // only oidc-provider's consumable models in the hash it needs.) The
        // marker lives as long as the challenge could, so it cannot expire first.
        if (!(await adapter.insertIfAbsent(`used:${id}`, { purpose }, CHALLENGE_TTL))) return false;
        await adapter.destroy(id);
        return true;
      };
    },
  };
}
