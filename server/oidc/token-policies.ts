// Who may introspect and revoke which token (RFC 7662 §4, RFC 7009 §2.1).
import { errors } from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import { issuedBeforeRevocation, lineageIssuedAt, type AccountLookup } from '../accounts/types.ts';

interface TokenLike { clientId?: string; accountId?: string; iat?: number; iiat?: number }

export type TokenPolicies = ReturnType<typeof tokenPolicies>;

export function tokenPolicies(accounts: AccountLookup) {
  return {
    async introspectionAllowed(_ctx: KoaContextWithOIDC, caller: Client, token: TokenLike) {
      // A client learns only about its own tokens (RFC 7662 §4): the opaque
      // ones are for its own userinfo calls, and APIs verify their JWTs
      // themselves. A deleted client cannot authenticate to ask at all.
      if (token.clientId !== caller.clientId) return false;
      // Tokens outlive admin changes in the store; a disabled or deleted
      // account, or a sign-out everywhere since they were issued, makes them
      // inactive at once.
      if (token.accountId) {
        const account = await accounts.findById(token.accountId);
        if (!account || account.disabled || issuedBeforeRevocation(account, lineageIssuedAt(token))) return false;
      }
      return true;
    },
    async revocationAllowed(_ctx: KoaContextWithOIDC, caller: Client, token: TokenLike) {
      if (token.clientId === caller.clientId) return true;
      // Public clients get the RFC 7009 "unsupported" silence; others a clear error.
      if (caller.clientAuthMethod === 'none') return false;
      throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
    },
  };
}
