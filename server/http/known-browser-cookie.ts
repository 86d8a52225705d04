// "This browser has signed in to this account before": a signed cookie
// (Koa keygrip, the cookie keys) listing short hashes of the emails whose
// password was entered correctly here. The sign-in throttle exempts such a
// browser from the all-IPs account limit, so an attacker elsewhere who runs
// that limit up cannot lock the owner out. It grants nothing else.
import type Koa from 'koa';
import { emailKey } from '../mfa/throttle/sign-in-throttle.ts';
import { cookieList } from './cookie-list.ts';

const MAX_AGE_SECONDS = 180 * 24 * 3600;

const known = (https: boolean) => cookieList('latchkey_known', https, /^[0-9a-f]{32}$/, { signed: true });
const marker = (email: string) => emailKey(email).slice(0, 32);

export const isKnownBrowser = (ctx: Koa.Context, https: boolean, email: string): boolean => known(https).read(ctx).includes(marker(email));

export const rememberKnownBrowser = (ctx: Koa.Context, https: boolean, email: string): void =>
  known(https).add(ctx, marker(email), MAX_AGE_SECONDS);
