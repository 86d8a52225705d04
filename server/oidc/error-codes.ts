// oidc-provider answers some requests with invalid_request where RFC 6749
// names a more specific error. This renames exactly those, after oidc-provider
// set its JSON error body (mounted with provider.use()):
// - a client using a grant or response type it is not registered for:
//   unauthorized_client (§4.1.2.1, §5.2);
// - a request with no client authentication, or Basic without a secret:
//   401 invalid_client (§5.2), with a Basic challenge.
import type Koa from 'koa';
import { PROVIDER_TEXT } from './internals.ts';

const NOT_ALLOWED_FOR_CLIENT = new Set<string>([PROVIDER_TEXT.grantTypeNotAllowed, PROVIDER_TEXT.responseTypeNotAllowed]);

const NO_CLIENT_AUTHENTICATION = new Set<string>([PROVIDER_TEXT.noClientAuthentication, PROVIDER_TEXT.basicWithoutSecret]);

export function rfc6749ErrorCodes(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    if (ctx.status !== 400 || body?.error !== 'invalid_request') return;
    const description = body.error_description ?? '';
    if (NOT_ALLOWED_FOR_CLIENT.has(description)) {
      body.error = 'unauthorized_client';
    } else if (NO_CLIENT_AUTHENTICATION.has(description)) {
      body.error = 'invalid_client';
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="latchkey"');
    }
  };
}
