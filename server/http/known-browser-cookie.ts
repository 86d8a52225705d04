// "This browser has signed in to this account before": a signed cookie
// (Koa keygrip, the cookie keys) listing short hashes of the emails whose
// password was entered correctly here. The sign-in throttle exempts such a
// browser from the all-IPs account limit, so an attacker elsewhere who runs
// that limit up cannot lock the owner out. It grants nothing else.
import type Koa from 'koa';
import { emailKey } from '../mfa/throttle/sign-in-throttle.ts';

const MAX_ACCOUNTS = 5;
const MAX_AGE_MS = 180 * 24 * 3600 * 1000;

const cookieName = (https: boolean) => (https ? '__Host-latchkey_known' : 'latchkey_known');
const marker = (email: string) => emailKey(email).slice(0, 32);

function markers(ctx: Koa.Context, https: boolean): string[] {
  return (ctx.cookies.get(cookieName(https), { signed: true }) ?? '').split('.').filter((m) => /^[0-9a-f]{32}$/.test(m));
}

export const isKnownBrowser = (ctx: Koa.Context, https: boolean, email: string): boolean => markers(ctx, https).includes(marker(email));

export function rememberKnownBrowser(ctx: Koa.Context, https: boolean, email: string): void {
  const list = [...new Set([marker(email), ...markers(ctx, https)])].slice(0, MAX_ACCOUNTS);
  ctx.cookies.set(cookieName(https), list.join('.'), {
    signed: true, httpOnly: true, sameSite: 'lax', secure: https, path: '/', maxAge: MAX_AGE_MS, overwrite: true,
  });
}
