// Step "second-factor": after the password (or for a step-up), one of the
// account's factors: a TOTP code, a security key or passkey, or a recovery
// code. Attempts are throttled per account and IP (counted before the
// check, given back when right).
import type Koa from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { secondFactorPage } from '../../views/second-factor.ts';
import { t, type StringKey } from '../../views/strings.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import { withSecondFactor, type SecondFactorMethod } from '../mfa/policy.ts';
import { MfaError } from '../mfa/types.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { ThrottledError } from '../throttle/types.ts';
import { showCurrentStep, type InteractionDependencies } from './context.ts';
import { finishLogin, rememberAllowed } from './finish-login.ts';
import { provenAmr, provenAt, type Flow } from './flow.ts';
import { answerThrottled } from './throttled.ts';

export async function renderSecondFactorStep(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow, error?: string) {
  const account = flow.account!;
  const factors = await deps.mfa.factors.list(account.id);
  const hasKeys = factors.some((f) => f.kind === 'webauthn');
  ctx.type = 'html';
  ctx.body = secondFactorPage(pageContext(deps.config, ctx), {
    action: `/interaction/${flow.uid}/second-factor`,
    csrfToken: csrfToken(deps.csrfKey, flow.uid),
    accountEmail: account.email,
    hasTotp: factors.some((f) => f.kind === 'totp'),
    webauthnOptions: hasKeys ? await deps.mfa.webauthn.authenticationOptions(flow.uid, 'second-factor', account.id) : undefined,
    rememberDays: rememberAllowed(deps, flow) ? Math.max(1, Math.round(deps.config.mfa.trustedDeviceTtl / 86400)) : undefined,
    error,
  });
}

type Outcome = { method: SecondFactorMethod; recoveryLeft?: number } | { failure: StringKey };

async function verify(deps: InteractionDependencies, flow: Flow, body: Record<string, string | undefined>): Promise<Outcome> {
  const accountId = flow.account!.id;
  switch (body.method) {
    case 'totp': {
      const factor = await deps.mfa.totp.verify(accountId, body.code ?? '');
      return factor ? { method: { kind: 'totp' } } : { failure: 'mfa.invalidCode' };
    }
    case 'recovery': {
      const used = await deps.mfa.recoveryCodes.use(accountId, body.recovery_code ?? '');
      return used ? { method: { kind: 'recovery' }, recoveryLeft: used.remaining } : { failure: 'mfa.invalidRecovery' };
    }
    case 'webauthn': {
      try {
        const response = parseWebAuthnResponse<AuthenticationResponseJSON>(body.webauthn_response);
        const { factor, userVerified } = await deps.mfa.webauthn.authenticate(flow.uid, 'second-factor', response, accountId);
        return { method: { kind: 'webauthn', synced: factor.synced ?? false, userVerified } };
      } catch (error) {
        if (error instanceof MfaError) return { failure: error.messageKey as StringKey };
        throw error;
      }
    }
    default:
      return { failure: 'mfa.invalidCode' };
  }
}

export async function submitSecondFactorStep(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) {
  const body = ctx.request.body as Record<string, string | undefined>;
  const accountId = flow.account!.id;
  const { throttle } = deps;
  try {
    await throttle.secondFactorAttempt(accountId, ctx.ip);
    const outcome = await verify(deps, flow, body);
    if ('failure' in outcome) {
      deps.logger.info({ accountId, method: body.method }, 'second factor refused');
      ctx.status = 401;
      return await renderSecondFactorStep(deps, ctx, flow, t(outcome.failure));
    }
    await throttle.secondFactorSucceeded(accountId, ctx.ip);
    const result = withSecondFactor(outcome.method, provenAmr(flow));
    const rememberDevice = body.remember_device === '1';
    if (outcome.recoveryLeft === undefined) return await finishLogin(deps, ctx, flow, accountId, result, rememberDevice);
    // A recovery code: say how many are left before going on.
    await deps.progress.save(flow.uid, {
      accountId, amr: provenAmr(flow), provenAt: provenAt(flow), result, rememberDevice, notice: { kind: 'recovery-used', remaining: outcome.recoveryLeft },
    });
    showCurrentStep(ctx, flow.uid);
  } catch (error) {
    if (!(error instanceof ThrottledError)) throw error;
    const message = answerThrottled(ctx, error.retryAfterSeconds);
    await renderSecondFactorStep(deps, ctx, flow, message);
    ctx.status = 429;
  }
}
