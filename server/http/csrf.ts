// CSRF defence for Latchkey's own forms: an HMAC token bound to the
// interaction (or session), plus an Origin / Sec-Fetch-Site check.
import { createHmac } from 'node:crypto';
import type Koa from 'koa';
import { safeEqual } from '../crypto/secrets.ts';
import { t } from '../../views/strings.ts';

export function csrfToken(key: Buffer, binding: string): string {
  return createHmac('sha256', key).update(`csrf:${binding}`).digest('base64url');
}

export function verifyCsrf(key: Buffer, binding: string, token: unknown): boolean {
  return typeof token === 'string' && token !== '' && binding !== '' && safeEqual(csrfToken(key, binding), token);
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses state-changing requests sent from another site. `Origin: null` is
 * treated as absent: with Referrer-Policy no-referrer browsers send "null" on
 * same-origin form POSTs too, so Sec-Fetch-Site decides then. Old browsers
 * that send neither still face the CSRF token.
 */
export function requireSameOrigin(issuer: string): Koa.Middleware {
  const expected = new URL(issuer).origin;
  return async (ctx, next) => {
    if (UNSAFE_METHODS.has(ctx.method)) {
      const origin = ctx.get('Origin');
      const site = ctx.get('Sec-Fetch-Site');
      if (origin && origin !== 'null') {
        if (origin !== expected) ctx.throw(403, t('error.cross_site'));
      } else if (site === 'cross-site' || site === 'same-site') {
        // same-site is still another origin (a sibling subdomain).
        ctx.throw(403, t('error.cross_site'));
      }
    }
    await next();
  };
}

/** Checks `ctx.request.body.csrf` (mount after formBody) against the binding. */
export function csrfGuard(key: Buffer, binding: (ctx: Koa.Context) => string | undefined): Koa.Middleware {
  return async (ctx, next) => {
    const bound = binding(ctx);
    const token = ctx.request.body?.csrf;
    if (!bound || !verifyCsrf(key, bound, token)) ctx.throw(403, t('error.csrf'));
    await next();
  };
}
