// GET / (exactly): a small page linking to /account and the discovery
// document. Any other method or spelling goes on to oidc-provider (404).
import type Koa from 'koa';
import { homePage } from '../../views/home.ts';
import type { PageContext } from '../../views/layout.ts';

export function home(pageContext: (ctx: Koa.Context) => PageContext): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', 'no-store'); // the page's CSP nonce is this response's own
    ctx.type = 'html';
    ctx.body = homePage(pageContext(ctx));
  };
}
