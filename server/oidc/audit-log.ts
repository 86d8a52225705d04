// oidc-provider's protocol happenings as security events (server/events):
// tokens issued and refused, refresh token reuse, grants revoked, sessions
// ended. Attached to every Provider provider-host.ts builds. Only ids and
// error codes are recorded: never token values, secrets or passwords.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { grantTypeLabel } from '../clients/types.ts';
import { requestIdOf } from '../http/request-id.ts';
import { requestMeta } from '../events/request-meta.ts';
import { REASONS, type Actor, type ReasonOf, type SecurityEvents } from '../events/security-event.ts';

type OidcError = Error & { error?: string; error_description?: string; error_detail?: string };

export interface AuditLogOptions {
  /** AUDIT_MACHINE_TOKENS: an event for each client_credentials token too. */
  machineTokens: boolean;
}

const accountOf = (ctx: KoaContextWithOIDC | undefined): string | undefined =>
  ctx?.oidc?.session?.accountId ?? ctx?.oidc?.entities?.Account?.accountId;

const who = (ctx: KoaContextWithOIDC | undefined) => ({
  client_id: ctx?.oidc?.client?.clientId,
  account_id: accountOf(ctx),
  route: ctx?.oidc?.route,
  ip: ctx?.ip,
  request_id: requestIdOf(ctx?.req),
});

/** The event's common part: the account when there is one (acting for itself through its client), else the client. */
function party(ctx: KoaContextWithOIDC | undefined) {
  const accountId = accountOf(ctx);
  const clientId = ctx?.oidc?.client?.clientId;
  const actor: Actor = accountId ? { kind: 'account', id: accountId } : clientId ? { kind: 'client', id: clientId } : { kind: 'anonymous' };
  return { actor, subject: accountId ?? clientId, client_id: clientId, ...requestMeta(ctx) };
}

const TOKEN_REFUSALS: readonly string[] = REASONS['token.refused'];
const refusalReason = (error: OidcError): ReasonOf<'token.refused'> =>
  (error.error && TOKEN_REFUSALS.includes(error.error) ? error.error : 'other') as ReasonOf<'token.refused'>;

/** Why oidc-provider revoked a grant, from where it happened. */
function revocationReason(ctx: KoaContextWithOIDC): ReasonOf<'grant.revoked'> {
  switch (ctx.oidc?.route) {
    case 'end_session_confirm':
      return 'signed_out';
    case 'revocation':
      return 'token_revoked';
    case 'token':
      if (ctx.oidc.entities.RefreshToken?.consumed) return 'refresh_token_reuse';
      if (ctx.oidc.entities.AuthorizationCode || ctx.oidc.params?.grant_type === 'authorization_code') return 'code_reuse';
      return 'other';
    default:
      return 'other';
  }
}

// oidc-provider's InvalidGrant detail when a rotated-out refresh token comes back (lib/actions/grants/refresh_token.js).
const REFRESH_REUSE = 'refresh token already used';

export function attachAuditLog(provider: Provider, logger: Logger, events: SecurityEvents, options: AuditLogOptions): void {
  provider.on('grant.success', (ctx) => {
    // A known grant type or "other": the request's parameter is the caller's text, any length.
    const grantType = grantTypeLabel(ctx.oidc.params?.grant_type);
    // The machine-token hot path: nothing is built unless asked for (metrics count these).
    if (grantType === 'client_credentials' && !options.machineTokens) return;
    events.emit({ type: 'token.issued', outcome: 'success', ...party(ctx), details: { grant_type: grantType } });
  });
  provider.on('grant.error', (ctx, error: OidcError) => {
    const grantType = grantTypeLabel(ctx.oidc.params?.grant_type);
    const common = party(ctx);
    events.emit({ type: 'token.refused', outcome: 'failure', ...common, reason: refusalReason(error), details: { grant_type: grantType, endpoint: 'token' } });
    if (error.error_detail === REFRESH_REUSE) {
      events.emit({ type: 'refresh_token.reuse_detected', outcome: 'failure', ...common, reason: 'refresh_token_reuse', details: { grant_type: grantType } });
    }
  });
  provider.on('grant.revoked', (ctx, grantId: string) => {
    events.emit({ type: 'grant.revoked', outcome: 'success', ...party(ctx), reason: revocationReason(ctx), details: { grant_id: grantId } });
  });
  // A refused authorization request (the user denied consent or aborted, a bad parameter): no token for it.
  provider.on('authorization.error', (ctx, error: OidcError) => {
    events.emit({ type: 'token.refused', outcome: 'failure', ...party(ctx), reason: refusalReason(error), details: { endpoint: 'authorization' } });
  });
  provider.on('end_session.success', (ctx) => {
    events.emit({ type: 'session.ended', outcome: 'success', ...party(ctx), reason: 'signed_out' });
  });

  // Not security events: plain log lines, as before.
  const errorFields = (error: OidcError) => ({ error: error.error ?? error.name, error_description: error.error_description });
  // unsupported_token_type here is a JWT access token, which jwt-access-tokens.ts then answers.
  const refused = (what: string) => (ctx: KoaContextWithOIDC, error: OidcError) => {
    if (error.error !== 'unsupported_token_type') logger.warn({ ...who(ctx), ...errorFields(error) }, what);
  };
  provider.on('introspection.error', refused('introspection refused'));
  provider.on('revocation.error', refused('revocation refused'));
  provider.on('interaction.ended', (ctx) => logger.debug(who(ctx), 'sign-in step completed'));
  provider.on('server_error', (ctx, error) => logger.error({ ...who(ctx), err: error }, 'oidc-provider server error'));
}
