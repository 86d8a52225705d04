// oidc-provider refuses JWT access tokens at introspection and revocation
// (unsupported_token_type), and does not store them. Latchkey's machine and
// API tokens are JWTs (RFC 9068), and RFC 7662/7009 should work for every
// token type, so this takes over exactly those refusals, after oidc-provider
// has authenticated the calling client:
// - introspection verifies the JWT with our own keys, checks the revocation
//   list, that a user token's grant still exists (revoked on logout, refresh
//   token reuse, code replay...), and the same caller policy as opaque
//   tokens, and answers RFC 7662;
// - revocation puts the token's jti on a revocation list until it expires.
// Resource servers that verify offline cannot see revocations: these tokens
// are short-lived (an API's TTL, 5 minutes by default) for that reason.
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type Koa from 'koa';
import { errors, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import { isStoreUnavailable } from '../adapters/errors.ts';
import type { Adapter } from '../adapters/index.ts';
import { SIGNING_ALG_VALUES } from './algorithms.ts';
import { PROVIDER_TEXT, refusedStructuredToken } from './internals.ts';
import { temporarilyUnavailable } from './store-guards.ts';
import type { tokenPolicies } from './token-policies.ts';
import { PRIVATE_JWK_MEMBERS } from '../protocol/constants.ts';

export const REVOKED_JWT_MODEL = 'RevokedJwtAccessToken';

/** Claim naming a user access token's grant (set by extraTokenClaims in configuration.ts). */
export const GRANT_ID_CLAIM = 'grant_id';

export const publicJwk = (jwk: JWK): JWK =>
  Object.fromEntries(Object.entries(jwk).filter(([name]) => !PRIVATE_JWK_MEMBERS.includes(name))) as JWK;

interface Options {
  issuer: string;
  jwks: JWK[];
  revoked: Adapter;
  grants: Adapter;
  policies: ReturnType<typeof tokenPolicies>;
}

type AccessTokenClaims = JWTPayload & { client_id?: string; scope?: string; cnf?: { jkt?: string }; [GRANT_ID_CLAIM]?: string };

export function jwtAccessTokenEndpoints({ issuer, jwks, revoked, grants, policies }: Options): Koa.Middleware {
  const keys = createLocalJWKSet({ keys: jwks.map(publicJwk) });

  /** The claims of a JWT access token we issued that is still valid, else undefined. */
  async function verify(token: string): Promise<AccessTokenClaims | undefined> {
    let payload: AccessTokenClaims;
    try {
      ({ payload } = await jwtVerify<AccessTokenClaims>(token, keys, { issuer, typ: 'at+jwt', algorithms: SIGNING_ALG_VALUES }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return undefined; // forged, expired, not ours
      throw error;
    }
    if (!payload.jti || !payload.client_id) return undefined;
    // Store errors are not "inactive": they surface as a server error.
    if (await revoked.find(payload.jti)) return undefined;
    const grantId = payload[GRANT_ID_CLAIM];
    if (grantId !== undefined && (typeof grantId !== 'string' || !(await grants.find(grantId)))) return undefined;
    return payload;
  }

  return async (ctx, next) => {
    if (ctx.path !== '/token/introspection' && ctx.path !== '/token/revocation') return next();
    await next();
    const refused = refusedStructuredToken(ctx);
    if (!refused) return;
    const { oidc, caller, token } = refused;
    try {
      await answer(ctx, oidc, caller, token);
    } catch (caught) {
      // After oidc-provider's error handler: answer its JSON shape ourselves
      // (a store that is down is an exposed 503 temporarily_unavailable, store-guards.ts).
      const error = isStoreUnavailable(caught) ? temporarilyUnavailable(caught) : caught;
      if (error instanceof errors.OIDCProviderError && error.expose) {
        ctx.status = error.status;
        ctx.body = { error: error.error, error_description: error.error_description };
        return;
      }
      ctx.app.emit('error', error, ctx);
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: PROVIDER_TEXT.serverError };
    }
  };

  async function answer(ctx: Koa.Context, oidc: KoaContextWithOIDC['oidc'], caller: Client, token: string) {
    const claims = await verify(token);
    // For a machine token sub is the client itself; otherwise it is an account.
    const owner = claims && { clientId: claims.client_id, accountId: claims.sub !== claims.client_id ? claims.sub : undefined, iat: claims.iat };

    if (oidc.route === 'introspection') {
      ctx.status = 200;
      ctx.body = claims && owner && (await policies.introspectionAllowed(oidc as never, caller, owner))
        ? {
            active: true,
            client_id: claims.client_id,
            sub: claims.sub,
            scope: claims.scope,
            aud: claims.aud,
            iss: claims.iss,
            exp: claims.exp,
            iat: claims.iat,
            jti: claims.jti,
            token_type: claims.cnf?.jkt ? 'DPoP' : 'Bearer',
            ...(claims.cnf ? { cnf: claims.cnf } : {}),
          }
        : { active: false };
      return;
    }

    if (oidc.route === 'revocation') {
      // RFC 7009 §2.2: an invalid or unknown token is not an error.
      let allowed: boolean;
      try {
        allowed = Boolean(claims && owner && (await policies.revocationAllowed(oidc as never, caller, owner)));
      } catch (error) {
        // Runs after oidc-provider's error handler: answer its JSON shape ourselves.
        if (!(error instanceof errors.OIDCProviderError)) throw error;
        ctx.status = error.status;
        ctx.body = { error: error.error, error_description: error.error_description };
        return;
      }
      if (claims && allowed) {
        const ttl = Math.max(1, (claims.exp ?? 0) - Math.floor(Date.now() / 1000));
        await revoked.upsert(claims.jti!, { jti: claims.jti, kind: REVOKED_JWT_MODEL, exp: claims.exp } as never, ttl);
      }
      ctx.status = 200;
      ctx.body = '';
    }
  }
}
