// oidc-provider answers a client using a grant or response type it is not
// registered for with invalid_request; RFC 6749 (§4.1.2.1, §5.2) names that
// unauthorized_client. This renames exactly those errors. Mounted with
// provider.use(); it runs after oidc-provider set the JSON error body.
import type Koa from 'koa';

const NOT_ALLOWED_FOR_CLIENT = new Set([
  'requested grant type is not allowed for this client',
  'requested response_type is not allowed for this client',
]);

export function unauthorizedClientErrors(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    const body = ctx.body as { error?: string; error_description?: string } | undefined;
    if (ctx.status === 400 && body?.error === 'invalid_request' && NOT_ALLOWED_FOR_CLIENT.has(body.error_description ?? '')) {
      body.error = 'unauthorized_client';
    }
  };
}
