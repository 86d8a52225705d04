// The "remember this device" cookie: random tokens (one per account that
// trusts this browser), each stored server-side only as a keyed hash.
import type Koa from 'koa';

const MAX_TOKENS = 5;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** __Host- binds the cookie to this exact origin when the issuer is https. */
export const deviceCookieName = (https: boolean) => (https ? '__Host-latchkey_device' : 'latchkey_device');

export function readDeviceTokens(ctx: Koa.Context, https: boolean): string[] {
  const value = ctx.cookies.get(deviceCookieName(https)) ?? '';
  return value.split('.').filter((token) => TOKEN.test(token)).slice(0, MAX_TOKENS);
}

/** Adds a token, keeping the newest few (an old one simply stops matching). */
export function addDeviceToken(ctx: Koa.Context, https: boolean, token: string, maxAgeSeconds: number): void {
  const tokens = [...new Set([token, ...readDeviceTokens(ctx, https)])].slice(0, MAX_TOKENS);
  ctx.cookies.set(deviceCookieName(https), tokens.join('.'), {
    httpOnly: true,
    sameSite: 'lax',
    secure: https,
    path: '/',
    maxAge: maxAgeSeconds * 1000,
    overwrite: true,
  });
}
