// Replaces two methods of oidc-provider's own classes on each Provider as it
// is built (provider-host.ts):
// - client secrets are stored as keyed hashes, so the check of a presented
//   secret replaces Client.prototype.compareClientSecret (which oidc-provider
//   awaits in lib/shared/client_auth.js);
// - ReplayDetection.unique (client assertions, DPoP proofs) is find-then-save
//   in oidc-provider, so two requests replaying one jti at once could both
//   pass; it becomes one atomic insert-if-absent.
// Other modules also lean on what oidc-provider does not document, and break
// if it changes: error-codes.ts and pages.ts match its error_description
// texts; jwt-access-tokens.ts takes over its unsupported_token_type answer,
// reading ctx.oidc after its error handler ran; store-guards.ts relies on it
// checking `consumed` before calling consume(); interaction-policy.ts swaps
// the function of its built-in essential_acr checks and reads
// ctx.oidc.result; server/account/context.ts loads the session with
// provider.Session.get on Latchkey's own Koa context.
import { createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Adapter } from '../adapters/index.ts';
import type { Client } from 'oidc-provider';
import type { ClientLookup } from '../clients/types.ts';
import { verifySecret } from '../crypto/secrets.ts';

export function useHashedClientSecrets(provider: Provider, clients: ClientLookup, hashKey: Buffer): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret: (actual: string) => Promise<boolean> };
  prototype.compareClientSecret = async function compareClientSecret(this: Client, actual: string) {
    // The cached record, not this (static) metadata, is the truth for secrets:
    // it is what every other check reads too, so a rotation takes effect for
    // all of them at once.
    const client = await clients.findById(this.clientId);
    if (!client?.secretHash) return false;
    const current = verifySecret(hashKey, actual, client.secretHash);
    // After rotate-secret the previous secret works until its grace period ends.
    const previous = client.previousSecretHash !== null
      && client.previousSecretExpiresAt !== null
      && client.previousSecretExpiresAt.getTime() > Date.now()
      && verifySecret(hashKey, actual, client.previousSecretHash);
    return current || previous;
  };
}

export function useAtomicReplayDetection(provider: Provider, adapter: Adapter): void {
  const model = provider.ReplayDetection as unknown as { unique: (iss: string, jti: string, exp: number) => Promise<boolean> };
  model.unique = async (iss, jti, exp) => {
    // Same id as oidc-provider's own ReplayDetection.unique.
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    const ttl = Math.max(1, exp - Math.floor(Date.now() / 1000));
    return adapter.insertIfAbsent(id, { jti: id, iss, kind: 'ReplayDetection', exp } as never, ttl);
  };
}
