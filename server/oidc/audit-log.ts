// Security-relevant protocol events, logged as structured lines. Only ids and
// error codes are logged: never token values, secrets or passwords.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { requestIdOf } from '../http/request-id.ts';

const who = (ctx: KoaContextWithOIDC | undefined) => ({
  client_id: ctx?.oidc?.client?.clientId,
  account_id: ctx?.oidc?.session?.accountId ?? ctx?.oidc?.entities?.Account?.accountId,
  route: ctx?.oidc?.route,
  ip: ctx?.ip,
  request_id: requestIdOf(ctx?.req),
});

const errorFields = (error: Error & { error?: string; error_description?: string }) => ({
  error: error.error ?? error.name,
  error_description: error.error_description,
});

export function attachAuditLog(provider: Provider, logger: Logger): void {
  const audit = logger.child({ audit: true });
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc.params?.grant_type;
    // Machine tokens are issued thousands of times a second: debug, not info.
    const level = grantType === 'client_credentials' ? 'debug' : 'info';
    audit[level]({ ...who(ctx), grant_type: grantType }, 'token issued');
  });
  provider.on('grant.error', (ctx, error) => audit.warn({ ...who(ctx), grant_type: ctx.oidc.params?.grant_type, ...errorFields(error) }, 'token request refused'));
  provider.on('grant.revoked', (ctx, grantId) => audit.info({ ...who(ctx), grant_id: grantId }, 'grant revoked'));
  provider.on('authorization.error', (ctx, error) => audit.warn({ ...who(ctx), ...errorFields(error) }, 'authorization request refused'));
  // unsupported_token_type here is a JWT access token, which jwt-access-tokens.ts then answers.
  const refused = (what: string) => (ctx: KoaContextWithOIDC, error: Error & { error?: string }) => {
    if (error.error !== 'unsupported_token_type') audit.warn({ ...who(ctx), ...errorFields(error) }, what);
  };
  provider.on('introspection.error', refused('introspection refused'));
  provider.on('revocation.error', refused('revocation refused'));
  provider.on('end_session.success', (ctx) => audit.info(who(ctx), 'signed out'));
  provider.on('interaction.ended', (ctx) => audit.info(who(ctx), 'sign-in step completed'));
  provider.on('server_error', (ctx, error) => logger.error({ ...who(ctx), err: error }, 'oidc-provider server error'));
}
