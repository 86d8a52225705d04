// oidc-provider renders a few HTML pages itself (form_post responses, the
// signed-out logout hop) with an inline auto-submit <script>, allowed only by
// a hash it adds to the CSP. Our CSP promises no inline script without a
// nonce, so this stamps the request's nonce on those scripts. Mounted with
// provider.use(); runs after oidc-provider wrote its body.
import type Koa from 'koa';
import { nonceOf } from './request-nonce.ts';

export function nonceInlineScripts(): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path.startsWith('/token')) return next(); // JSON endpoints
    await next();
    if (typeof ctx.body !== 'string' || !ctx.response.is('html')) return;
    const nonce = nonceOf(ctx.req);
    if (nonce) ctx.body = ctx.body.replace(/<script(?![^>]*\bnonce=)(?=[\s>])/g, `<script nonce="${nonce}"`);
  };
}
