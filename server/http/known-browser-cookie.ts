// "This browser has signed in to this account before": a signed cookie
// (Koa keygrip, the cookie keys) listing short markers of the accounts whose
// password was entered correctly here. The sign-in throttle exempts such a
// browser from the all-IPs account limit, so an attacker elsewhere who runs
// that limit up cannot lock the owner out. It grants nothing else.
// A marker is the throttle's key for the email (SignInThrottle.emailKey in
// server/throttle/: a keyed hash of the canonical address), shortened: every
// spelling of the address matches, and the cookie cannot be matched against a
// list of emails.
import type Koa from 'koa';
import { cookieList } from './cookie-list.ts';

const MAX_AGE_SECONDS = 180 * 24 * 3600;

const known = (https: boolean) => cookieList('latchkey_known', https, /^[0-9a-f]{32}$/, { signed: true });
const marker = (emailKey: string) => emailKey.slice(0, 32);

export const isKnownBrowser = (ctx: Koa.Context, https: boolean, emailKey: string): boolean => known(https).read(ctx).includes(marker(emailKey));

export const rememberKnownBrowser = (ctx: Koa.Context, https: boolean, emailKey: string): void =>
  known(https).add(ctx, marker(emailKey), MAX_AGE_SECONDS);
