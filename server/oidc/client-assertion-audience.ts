// Which `aud` a private_key_jwt client assertion may carry: the issuer or
// its token endpoint, nothing else (RFC 7523 §3). oidc-provider also takes
// the URL of whichever endpoint is being called (introspection, revocation,
// PAR); one fixed pair, built from ISSUER, is simpler to reason about and to
// tell client developers.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

type Claims = { aud?: unknown };

export function clientAssertionAudience(issuer: string) {
  const accepted = new Set([issuer, `${issuer}/token`]);
  return async (_ctx: KoaContextWithOIDC, claims: Claims): Promise<void> => {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((aud) => typeof aud === 'string' && accepted.has(aud))) {
      throw new errors.InvalidClientAuth('audience (aud) must be the issuer or its token endpoint');
    }
  };
}
