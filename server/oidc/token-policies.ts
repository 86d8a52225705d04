// Who may introspect and revoke which token (RFC 7662 §4, RFC 7009 §2.1).
import { errors } from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountLookup } from '../accounts/types.ts';
import type { ClientLookup } from '../clients/types.ts';

interface TokenLike { clientId?: string; accountId?: string }

export function tokenPolicies(clients: ClientLookup, accounts: AccountLookup) {
  return {
    async introspectionAllowed(_ctx: KoaContextWithOIDC, caller: Client, token: TokenLike) {
      const own = token.clientId === caller.clientId;
      // A public client learns only about its own tokens.
      if (caller.clientAuthMethod === 'none' && !own) return false;
      // Tokens outlive admin changes in the store; a deleted client or a
      // disabled/deleted account makes them inactive at once. (This also keeps
      // oidc-provider from dereferencing a deleted client.)
      if (!own && token.clientId && !(await clients.findById(token.clientId))) return false;
      if (token.accountId) {
        const account = await accounts.findById(token.accountId);
        if (!account || account.disabled) return false;
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
