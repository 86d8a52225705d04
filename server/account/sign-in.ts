// The account page signs in through the authorization endpoint as the
// built-in client (response_type=none): the whole sign-in flow, MFA and
// throttling included, with nothing issued. `state` is checked against a
// cookie; `next` is a path on the account page only (no open redirect).
import type Koa from 'koa';
import { randomSecret, safeEqual } from '../crypto/secrets.ts';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID } from '../oidc/account-client.ts';
import { t } from '../../views/strings.ts';
import type { AccountPageDependencies } from './context.ts';

const STATE_COOKIE = 'latchkey_account_state';
const SAFE_NEXT = /^\/account(\/[a-z-]+)*$/;

export const safeNext = (next: unknown): string => (typeof next === 'string' && SAFE_NEXT.test(next) ? next : '/account');

/**
 * Sends the browser to sign in. `reauthenticate` asks for a fresh factor:
 * max_age=1 (max_age=0 would be prompt=login, the password again) makes a
 * session with a second factor give just that factor again.
 */
export function redirectToSignIn(deps: AccountPageDependencies, ctx: Koa.Context, next: string, reauthenticate = false): void {
  const state = randomSecret(16);
  ctx.cookies.set(STATE_COOKIE, `${state}.${safeNext(next)}`, {
    httpOnly: true, sameSite: 'lax', secure: deps.config.https, path: '/account', maxAge: deps.config.ttl.interaction * 1000, overwrite: true,
  });
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

/** GET /account/callback: back from the sign-in. */
export function handleCallback(ctx: Koa.Context): void {
  const [expected, next] = (ctx.cookies.get(STATE_COOKIE) ?? '').split('.');
  const state = ctx.query.state;
  ctx.cookies.set(STATE_COOKIE, null, { path: '/account' });
  if (typeof state !== 'string' || !expected || !safeEqual(state, expected)) ctx.throw(400, t('error.interaction_expired'));
  // The query's own error text is not echoed: anyone can craft this URL.
  if (ctx.query.error) ctx.throw(403, t('error.403'));
  ctx.status = 303;
  ctx.redirect(safeNext(next));
}
