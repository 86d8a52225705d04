// A cookie holding a short list of values (newest first), as the remembered-
// device and known-browser cookies do: one entry per account that uses this
// browser. HttpOnly, SameSite=Lax, Path=/, and __Host- on https.
import type Koa from 'koa';

const MAX_ENTRIES = 5;

export interface CookieList {
  read(ctx: Koa.Context): string[];
  /** Puts `value` first, keeping the newest few (an old one simply stops matching). */
  add(ctx: Koa.Context, value: string, maxAgeSeconds: number): void;
}

export function cookieList(name: string, https: boolean, entry: RegExp, options: { signed?: boolean } = {}): CookieList {
  const cookieName = https ? `__Host-${name}` : name;
  const signed = options.signed ?? false;
  const read = (ctx: Koa.Context) =>
    (ctx.cookies.get(cookieName, { signed }) ?? '').split('.').filter((value) => entry.test(value)).slice(0, MAX_ENTRIES);
  return {
    read,
    add(ctx, value, maxAgeSeconds) {
      const values = [...new Set([value, ...read(ctx)])].slice(0, MAX_ENTRIES);
      ctx.cookies.set(cookieName, values.join('.'), {
        signed, httpOnly: true, sameSite: 'lax', secure: https, path: '/', maxAge: maxAgeSeconds * 1000, overwrite: true,
      });
    },
  };
}
