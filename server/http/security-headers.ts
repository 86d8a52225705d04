// Security headers for every response, plus a per-request CSP nonce that the
// page templates put on their <style>/<script> tags (ctx.state.cspNonce).
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type Koa from 'koa';
import { rememberNonce } from './request-nonce.ts';

export function contentSecurityPolicy(nonce: string): string {
  // No form-action: browsers apply it to the redirects that follow a form
  // POST too, and login/consent POSTs 303 through /auth to the client's
  // redirect_uri on another origin, which form-action 'self' would block.
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

// Nonces come from a pool of CSPRNG bytes, refilled 256 nonces at a time:
// one randomBytes call per request cost ~10 µs on the hot path.
let pool = Buffer.alloc(0);
let offset = 0;
function nextNonce(): string {
  if (offset + 16 > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset).toString('base64');
}

/** Headers for JSON API responses (the token endpoint's direct path, see server/app.ts). */
export function setApiSecurityHeaders(res: ServerResponse, options: { https: boolean }): void {
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (options.https) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
}

export function securityHeaders(options: { https: boolean }): Koa.Middleware {
  return async (ctx, next) => {
    const nonce = nextNonce();
    ctx.state.cspNonce = nonce;
    rememberNonce(ctx.req, nonce); // for pages oidc-provider renders (its ctx has its own state)
    // Set before next(): responses handed to oidc-provider keep headers
    // already on the raw response, and its form_post page appends its
    // script hash to this CSP.
    ctx.set('Content-Security-Policy', contentSecurityPolicy(nonce));
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (options.https) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
