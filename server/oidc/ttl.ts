// Token and session lifetimes from Config. Refresh tokens and sessions have
// an idle lifetime (renewed on use) capped by an absolute one.
import type { AccessToken, ClientCredentials, RefreshToken, Session } from 'oidc-provider';
import { sessionSecondsLeft } from '../accounts/session-lifetime.ts';
import type { Config } from '../config/index.ts';
import { refreshChainIssuedAt } from './internals.ts';

const now = () => Math.floor(Date.now() / 1000);

export function lifetimes(ttl: Config['ttl']) {
  return {
    AccessToken: (_ctx: unknown, token: AccessToken) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
    ClientCredentials: (_ctx: unknown, token: ClientCredentials) => token.resourceServer?.accessTokenTTL ?? ttl.accessToken,
    AuthorizationCode: ttl.authorizationCode,
    IdToken: ttl.idToken,
    Interaction: ttl.interaction,
    // A grant dies with the absolute refresh lifetime, and its tokens with it.
    Grant: ttl.refreshAbsolute,
    RefreshToken(_ctx: unknown, token: RefreshToken) {
      // Rotated tokens keep the first token's iat (iiat), so the cap holds across rotations.
      const issuedAt = refreshChainIssuedAt(token) ?? now();
      return Math.max(1, Math.min(ttl.refreshIdle, issuedAt + ttl.refreshAbsolute - now()));
    },
    Session: (_ctx: unknown, session: Session) => sessionSecondsLeft(session.loginTs ?? now(), ttl),
  };
}
