// Token, introspection and revocation metrics, counted from the answer the
// client actually got. oidc-provider's events (grant.success, grant.error,
// introspection.error...) fire before Latchkey's own provider middleware has
// had its say: rfc6749ErrorCodes turns some invalid_request refusals into the
// invalid_client the client receives, and jwtAccessTokenEndpoints answers the
// JWT introspections and revocations oidc-provider refuses with
// unsupported_token_type. So this is the outermost provider middleware and
// reads ctx.oidc, the status and the body once everything below is done.
import type Koa from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { grantTypeLabel } from '../clients/types.ts';
import type { CounterCell } from './cells.ts';
import type { LatchkeyMetrics } from './registry.ts';

/** OAuth error codes oidc-provider and Latchkey answer with; any other code is counted as "other". */
export const ERROR_CODES = new Set([
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type',
  'invalid_scope', 'invalid_target', 'invalid_token', 'unsupported_token_type', 'invalid_dpop_proof',
  'use_dpop_nonce', 'access_denied', 'server_error', 'temporarily_unavailable', 'slow_down',
  'authorization_pending', 'expired_token', 'invalid_authorization_details', 'invalid_client_attestation',
  'use_attestation_challenge', 'use_fresh_attestation',
]);

export { grantTypeLabel };
export const errorLabel = (value: unknown): string => (typeof value === 'string' && ERROR_CODES.has(value) ? value : 'other');

// Client ids come from authenticated, registered clients only (admin-created),
// so they are bounded; this cap is a second fence against a runaway label set.
const MAX_CLIENT_SERIES = 10_000;

export function providerMetrics(metrics: LatchkeyMetrics): Koa.Middleware {
  const issued = new Map<string, CounterCell>();
  const issuedFor = (grantType: string, clientId: string) => {
    let key = `${grantType} ${clientId}`;
    let cell = issued.get(key);
    if (cell) return cell;
    const client = issued.size < MAX_CLIENT_SERIES ? clientId : 'other';
    key = `${grantType} ${client}`;
    cell = issued.get(key) ?? metrics.tokensIssued.cell(grantType, client);
    issued.set(key, cell);
    return cell;
  };

  function record(ctx: KoaContextWithOIDC, failed: boolean): void {
    const route = ctx.oidc?.route;
    if (route !== 'token' && route !== 'introspection' && route !== 'revocation') return;
    const body = ctx.body as { error?: unknown; active?: unknown } | undefined;
    const ok = !failed && ctx.status === 200;
    const error = failed ? 'server_error' : errorLabel(body?.error);
    if (route === 'token') {
      const grantType = grantTypeLabel(ctx.oidc.params?.grant_type);
      const clientId = ctx.oidc.client?.clientId;
      if (ok && clientId) issuedFor(grantType, clientId).inc();
      else metrics.tokenRequestsRefused.labels(grantType, error).inc();
    } else if (route === 'introspection') {
      metrics.introspections.labels(ok ? (body?.active === true ? 'active' : 'inactive') : error).inc();
    } else {
      metrics.revocations.labels(ok ? 'revoked' : error).inc();
    }
  }

  return async (ctx, next) => {
    let failed = false;
    try {
      await next();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // record() keeps only the token, introspection and revocation routes (ctx.oidc exists once a route matched).
      record(ctx as unknown as KoaContextWithOIDC, failed);
    }
  };
}
