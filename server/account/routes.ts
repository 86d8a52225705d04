// /account: the signed-in user's factors, recovery codes, remembered devices
// and password. Changing factors or the password needs a fresh second factor
// (or the password when there is no factor yet): otherwise the browser is
// sent to re-authenticate (max_age=1, see sign-in.ts) and comes back.
import Router from '@koa/router';
import type Koa from 'koa';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { accountKeyPage, accountPage, accountTotpPage, passwordChangedPage } from '../../views/account.ts';
import { recoveryCodesPage } from '../../views/recovery-codes.ts';
import { t, type StringKey } from '../../views/strings.ts';
import { LatchkeyError } from '../errors.ts';
import { formBody } from '../http/body.ts';
import { csrfGuard, csrfToken, requireSameOrigin } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import { ACCOUNT_CALLBACK_PATH, ACCOUNT_CLIENT_ID } from '../oidc/account-client.ts';
import { mfaMandatory } from '../mfa/policy.ts';
import type { Factor } from '../mfa/types.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { byAccount } from '../events/request-meta.ts';
import { factorKind } from '../events/factor-kind.ts';
import { toActivity } from './activity.ts';
import { loadAccountSession, recordAddedFactor, type AccountPageDependencies, type AccountSession } from './context.ts';
import { handleCallback, redirectToSignIn, safeNext } from './sign-in.ts';

const MESSAGES: Record<string, StringKey> = { removed: 'account.factorRemoved', forgotten: 'account.deviceForgotten' };

/**
 * The /account router. Strict and case-sensitive: /ACCOUNT or /account/totp/
 * is no route (404), never the page with another spelling's guards skipped.
 * The guards are in each route's own chain, so they match exactly when the
 * route does (C58). Its `stack` lists every route (the C58 test walks them).
 */
export function accountRouter(deps: AccountPageDependencies): Router {
  const router = new Router({ sensitive: true, strict: true });
  const page = (ctx: Koa.Context) => pageContext(deps.config, ctx);
  const csrf = (s: AccountSession) => csrfToken(deps.csrfKey, `account:${s.sessionUid}`);
  // Set-ups (a TOTP secret, a WebAuthn challenge) belong to this session and this account.
  const setupKey = (s: AccountSession) => `account:${s.sessionUid}:${s.account.id}`;
  const session = (ctx: Koa.Context) => ctx.state.accountSession as AccountSession;

  // The sign-in round trip: no session yet.
  router.get(ACCOUNT_CALLBACK_PATH, (ctx) => handleCallback(deps, ctx));
  router.get('/account/reauth', (ctx) => redirectToSignIn(deps, ctx, safeNext(ctx.query.next), true));

  /** First in every other route: a signed-in session, no caching; POSTs same-origin with a CSRF token bound to the session. */
  const signedIn: Koa.Middleware = async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method === 'POST') {
      await requireSameOrigin(deps.config.issuer)(ctx, async () => {});
      await formBody()(ctx, async () => {});
    }
    const current = await loadAccountSession(deps, ctx);
    if (!current) return redirectToSignIn(deps, ctx, ctx.method === 'GET' ? ctx.path : '/account');
    ctx.state.accountSession = current;
    if (ctx.method === 'POST') return csrfGuard(deps.csrfKey, () => `account:${current.sessionUid}`)(ctx, next);
    await next();
  };
  /**
   * A refused change (a LatchkeyError the user may read: a key that could not
   * be registered, a password the policy refuses) shows its form again with
   * the error's status and message; anything else goes on to the error pages.
   */
  const showAgainOnRefusal = (show: (ctx: Koa.Context, message: string) => Promise<void>): Koa.Middleware => async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof LatchkeyError) || error.status >= 500) throw error;
      ctx.status = error.status;
      await show(ctx, error.userMessage());
    }
  };
  /** Changes need a fresh factor: otherwise re-authenticate and come back to `back`. */
  const fresh = (back: string): Koa.Middleware => async (ctx, next) => {
    if (!session(ctx).fresh) return redirectToSignIn(deps, ctx, back, true);
    await next();
  };

  const showOverview = async (ctx: Koa.Context, extra: { message?: string; error?: string } = {}) => {
    const s = session(ctx);
    const [factors, recoveryLeft, devices, activity] = await Promise.all([
      deps.mfa.factors.list(s.account.id), deps.mfa.recoveryCodes.remaining(s.account.id), deps.mfa.trustedDevices.list(s.account.id),
      deps.recentActivity(s.account.id),
    ]);
    ctx.type = 'html';
    ctx.body = accountPage(page(ctx), {
      email: s.account.email, csrfToken: csrf(s), factors, recoveryLeft, devices, activity: activity.map((e) => toActivity(e)), ...extra,
      signOutUrl: `/session/end?client_id=${ACCOUNT_CLIENT_ID}`,
    });
  };
  const back = (ctx: Koa.Context, message?: string) => {
    ctx.status = 303;
    ctx.redirect(message ? `/account?done=${message}` : '/account');
  };
  /** After a factor is added: the session counts it; the first one brings recovery codes, shown once. */
  const factorAdded = async (ctx: Koa.Context, factor: Factor) => {
    const s = session(ctx);
    await deps.setups.clear(setupKey(s));
    await recordAddedFactor(deps, ctx, s.account.id, factor);
    deps.events.emit({ type: 'factor.added', outcome: 'success', ...byAccount(ctx, s.account.id), details: { kind: factorKind(factor), factor_id: factor.id, during: 'account_page' } });
    if (s.hasFactors) return showOverview(ctx, { message: t('account.factorAdded', { name: factor.name }) });
    const codes = await deps.mfa.recoveryCodes.regenerate(s.account.id);
    deps.events.emit({ type: 'recovery_codes.regenerated', outcome: 'success', ...byAccount(ctx, s.account.id), details: { count: codes.length } });
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(page(ctx), codes, { link: '/account' });
  };

  router.get('/account', signedIn, async (ctx) => {
    const done = typeof ctx.query.done === 'string' && Object.hasOwn(MESSAGES, ctx.query.done) ? MESSAGES[ctx.query.done] : undefined;
    await showOverview(ctx, { message: done && t(done) });
  });

  const showTotpSetup = async (ctx: Koa.Context, error?: string) => {
    const s = session(ctx);
    const pending = await deps.setups.get(setupKey(s));
    const setup = await deps.mfa.totp.setup(s.account.email, pending?.pendingTotpSecret);
    await deps.setups.save(setupKey(s), { accountId: s.account.id, amr: [], pendingTotpSecret: setup.secret });
    ctx.type = 'html';
    ctx.body = accountTotpPage(page(ctx), { action: '/account/totp', csrfToken: csrf(s), secret: setup.secret, qrSvg: setup.qrSvg, error });
  };
  router.get('/account/totp', signedIn, fresh('/account/totp'), (ctx) => showTotpSetup(ctx));
  router.post('/account/totp', signedIn, fresh('/account/totp'), async (ctx) => {
    const s = session(ctx);
    const body = ctx.request.body ?? {};
    const pending = await deps.setups.get(setupKey(s));
    const secret = pending?.accountId === s.account.id ? pending.pendingTotpSecret : undefined;
    const factor = secret ? await deps.mfa.totp.confirm(s.account.id, body.name ?? '', secret, body.code ?? '') : undefined;
    if (!factor) {
      ctx.status = 401;
      return showTotpSetup(ctx, t('mfa.invalidCode'));
    }
    await factorAdded(ctx, factor);
  });

  const showKeySetup = async (ctx: Koa.Context, error?: string) => {
    const s = session(ctx);
    ctx.type = 'html';
    ctx.body = accountKeyPage(page(ctx), { csrfToken: csrf(s), error, options: await deps.mfa.webauthn.registrationOptions(setupKey(s), s.account) });
  };
  router.get('/account/security-keys', signedIn, fresh('/account/security-keys'), (ctx) => showKeySetup(ctx));
  router.post('/account/security-keys', signedIn, fresh('/account/security-keys'), showAgainOnRefusal(showKeySetup), async (ctx) => {
    const s = session(ctx);
    const body = ctx.request.body ?? {};
    const response = parseWebAuthnResponse<RegistrationResponseJSON>(body.webauthn_response, 'registration');
    const factor = await deps.mfa.webauthn.register(setupKey(s), s.account.id, body.name ?? '', response);
    await factorAdded(ctx, factor);
  });

  router.post('/account/factors/:id/remove', signedIn, fresh('/account'), async (ctx) => {
    const s = session(ctx);
    // Where MFA is mandatory the last factor stays until another is added.
    const keepLast = mfaMandatory({ policy: deps.config.mfa.policy, account: s.account, client: { requireMfa: false } });
    const before = await deps.mfa.factors.list(s.account.id);
    const removing = before.find((f) => f.id === ctx.params.id);
    const outcome = await deps.mfa.factors.remove(s.account.id, ctx.params.id, { keepLast });
    if (outcome === 'not-found') ctx.throw(404);
    if (outcome === 'last-factor') {
      ctx.status = 409;
      return showOverview(ctx, { error: t('account.lastFactorRequired') });
    }
    deps.events.emit({
      type: 'factor.removed', outcome: 'success', ...byAccount(ctx, s.account.id),
      details: { kind: removing ? factorKind(removing) : 'webauthn', factor_id: ctx.params.id },
    });
    // With the last factor, the recovery codes went too (factor-directory.ts).
    if (before.length === 1) deps.events.emit({ type: 'factor.removed', outcome: 'success', ...byAccount(ctx, s.account.id), details: { kind: 'recovery_codes' } });
    back(ctx, 'removed');
  });

  router.post('/account/recovery-codes', signedIn, fresh('/account'), async (ctx) => {
    const s = session(ctx);
    if (!s.hasFactors) return back(ctx);
    const codes = await deps.mfa.recoveryCodes.regenerate(s.account.id);
    deps.events.emit({ type: 'recovery_codes.regenerated', outcome: 'success', ...byAccount(ctx, s.account.id), details: { count: codes.length } });
    ctx.type = 'html';
    ctx.body = recoveryCodesPage(page(ctx), codes, { link: '/account' });
  });

  // Forgetting a device only lowers trust: no fresh factor needed.
  router.post('/account/devices/:id/forget', signedIn, async (ctx) => {
    const s = session(ctx);
    if (!(await deps.mfa.trustedDevices.forget(s.account.id, ctx.params.id))) ctx.throw(404);
    deps.events.emit({ type: 'trusted_device.forgotten', outcome: 'success', ...byAccount(ctx, s.account.id), details: { device_id: ctx.params.id } });
    back(ctx, 'forgotten');
  });

  const showPasswordRefused = (ctx: Koa.Context, error: string) => showOverview(ctx, { error });
  router.post('/account/password', signedIn, fresh('/account'), showAgainOnRefusal(showPasswordRefused), async (ctx) => {
    const s = session(ctx);
    const { trustedDevicesForgotten } = await deps.accounts.changePassword(s.account.id, ctx.request.body?.new_password ?? '');
    deps.events.emit({ type: 'password.changed', outcome: 'success', ...byAccount(ctx, s.account.id), details: { trusted_devices_forgotten: trustedDevicesForgotten } });
    ctx.type = 'html';
    ctx.body = passwordChangedPage(page(ctx));
  });

  return router;
}

export const accountRoutes = (deps: AccountPageDependencies): Koa.Middleware => accountRouter(deps).routes() as unknown as Koa.Middleware;
