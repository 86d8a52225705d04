// The account page signs in through the authorization endpoint as the
// built-in client (response_type=none): the whole sign-in flow, MFA and
// throttling included, with nothing issued. `state` is checked against a
// cookie signed with the cookie keys (a cookie Latchkey did not set, or
// changed, reads as absent: C30), so the callback only ends a sign-in this
// browser started; `next` is a path on the account page only (no open redirect).
import type Koa from 'koa';
import { randomSecret, safeEqual } from '../crypto/secrets.ts';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID } from '../oidc/account-client.ts';
import { t } from '../../views/strings.ts';
import type { AccountPageDependencies } from './context.ts';

const STATE_COOKIE = 'latchkey_account_state';
// eslint-disable-next-line security/detect-unsafe-regex -- each repetition starts with '/', which [a-z-] cannot match: linear
const SAFE_NEXT = /^\/account(\/[a-z-]+)*$/;

export const safeNext = (next: unknown): string => (typeof next === 'string' && SAFE_NEXT.test(next) ? next : '/account');

const stateCookie = (deps: AccountPageDependencies) => ({ signed: true, httpOnly: true, sameSite: 'lax', secure: deps.config.https, path: '/account' } as const);

/**
 * Sends the browser to sign in. `reauthenticate` asks for a fresh factor:
 * max_age=1 (max_age=0 would be prompt=login, the password again) makes a
 * session with a second factor give just that factor again.
 */
export function redirectToSignIn(deps: AccountPageDependencies, ctx: Koa.Context, next: string, reauthenticate = false): void {
  const state = randomSecret(16);
  ctx.cookies.set(STATE_COOKIE, `${state}.${safeNext(next)}`, { ...stateCookie(deps), maxAge: deps.config.ttl.interaction * 1000, overwrite: true });
  const url = new URL('/auth', deps.config.issuer);
  url.search = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'none',
    scope: 'openid',
    redirect_uri: `${deps.config.issuer}${ACCOUNT_CALLBACK_PATH}`,
    state,
    ...(reauthenticate ? { max_age: '1' } : {}),
  }).toString();
  ctx.status = 303;
  ctx.redirect(url.href);
}

/** GET /account/callback: back from the sign-in. A missing, unsigned or forged state cookie is the error page, never /account. */
export function handleCallback(deps: AccountPageDependencies, ctx: Koa.Context): void {
  // signed: true checks the .sig cookie; without it Koa returns whatever the request says.
  const [expected, next] = (ctx.cookies.get(STATE_COOKIE, { signed: true }) ?? '').split('.');
  const state = ctx.query.state;
  ctx.cookies.set(STATE_COOKIE, null, stateCookie(deps));
  if (typeof state !== 'string' || !expected || !safeEqual(state, expected)) ctx.throw(400, t('error.interaction_expired'));
  // "Use another account" ended the sign-in: start one again (a browser
  // without a session gets the password page).
  if (ctx.query.error === 'access_denied') {
    ctx.status = 303;
    return ctx.redirect(safeNext(next));
  }
  // The query's own error text is not echoed: anyone can craft this URL.
  if (ctx.query.error) ctx.throw(403, t('error.403'));
  ctx.status = 303;
  ctx.redirect(safeNext(next));
}
