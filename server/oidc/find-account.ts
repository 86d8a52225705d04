// findAccount: the OIDC claims of an account (standard claims only).
import type { KoaContextWithOIDC } from 'oidc-provider';
import { issuedBeforeRevocation, lineageIssuedAt, type AccountLookup } from '../accounts/types.ts';

export const CLAIMS = {
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  // Every ID token says how (acr, amr) and when (auth_time) the user signed
  // in, asked for or not: apps enforce their own MFA rules from them.
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  email: ['email', 'email_verified'],
  profile: ['name', 'updated_at'],
};

export function createFindAccount(accounts: AccountLookup) {
  return async function findAccount(ctx: KoaContextWithOIDC, sub: string, token?: { iat?: number; iiat?: number }) {
    const account = await accounts.findById(sub);
    // A disabled account's tokens stop working at userinfo and refresh.
    if (!account || account.disabled) return undefined;
    // After a sign-out everywhere (or a password reset), older tokens and
    // sessions no longer find their account: invalid_token / invalid_grant,
    // and a session must sign in again (interaction-policy.ts).
    const issuedAt = token ? lineageIssuedAt(token) : ctx.oidc?.session?.loginTs;
    if (issuedBeforeRevocation(account, issuedAt)) return undefined;
    return {
      accountId: account.id,
      // The interaction policy reads MFA settings from it (interaction-policy.ts).
      profile: account,
      async claims() {
        return {
          sub: account.id,
          email: account.email,
          email_verified: account.emailVerified,
          name: account.name ?? undefined,
          updated_at: Math.floor(account.updatedAt.getTime() / 1000),
        };
      },
    };
  };
}
