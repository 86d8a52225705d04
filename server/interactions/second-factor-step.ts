// Step "second-factor": after the password (or for a step-up), one of the
// account's factors: a TOTP code, a security key or passkey, or a recovery
// code. Attempts are throttled per account and IP (counted before the
// check, given back when right).
import type Koa from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { secondFactorPage, type SecondFactorProblem } from '../../views/second-factor.ts';
import { t, type StringKey } from '../../views/strings.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import { withSecondFactor, type SecondFactorMethod } from '../mfa/policy.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { byAccount } from '../events/request-meta.ts';
import type { ReasonOf, SignInMethod } from '../events/security-event.ts';
import type { InteractionDependencies } from './context.ts';
import { rememberAllowed } from './finish-login.ts';
import { progressOf, type FlowAt } from './flow.ts';
import { advance, finish, retry, type Outcome, type StepModule } from './outcome.ts';

type SecondFactorFlow = FlowAt<'second-factor'>;

async function renderSecondFactorStep(deps: InteractionDependencies, ctx: Koa.Context, flow: SecondFactorFlow, problem?: SecondFactorProblem) {
  const { account, factors } = flow;
  ctx.type = 'html';
  ctx.body = secondFactorPage(pageContext(deps.config, ctx), {
    action: `/interaction/${flow.uid}/second-factor`,
    abortAction: `/interaction/${flow.uid}/abort`,
    csrfToken: csrfToken(deps.csrfKey, flow.uid),
    accountEmail: account.email,
    hasTotp: factors.hasTotp,
    // The keys loaded with the account (loadFlow): not looked up again.
    webauthnOptions: factors.webauthn.length ? await deps.mfa.webauthn.authenticationOptions(flow.uid, 'second-factor', account.id, factors.webauthn) : undefined,
    rememberDays: rememberAllowed(deps, flow) ? Math.max(1, Math.round(deps.config.mfa.trustedDeviceTtl / 86400)) : undefined,
    problem,
  });
}

type Verdict = { method: SecondFactorMethod; recoveryLeft?: number } | { failure: StringKey };

type Offered = 'totp' | 'recovery' | 'webauthn';

const filled = (value: string | undefined): boolean => (value ?? '').trim() !== '';

/**
 * The factor a POST offers. Enter in a text field submits the form with its
 * first button ("Verify", method=totp) whichever field was typed in, so the
 * one filled field decides, not the button. With both filled, only the
 * "Use recovery code" button is unambiguous (Enter never sends it while
 * "Verify" is there); otherwise `both`: asked back, not counted as an attempt.
 */
export function offeredFactor(body: Record<string, string | undefined>): Offered | 'both' {
  // Set by webauthn.js with the assertion; no text field is involved.
  if (body.method === 'webauthn') return 'webauthn';
  const code = filled(body.code);
  const recovery = filled(body.recovery_code);
  if (code && recovery) return body.method === 'recovery' ? 'recovery' : 'both';
  if (code || recovery) return code ? 'totp' : 'recovery';
  return body.method === 'recovery' ? 'recovery' : 'totp';
}

async function verify(deps: InteractionDependencies, flow: SecondFactorFlow, offered: Offered, body: Record<string, string | undefined>): Promise<Verdict> {
  const accountId = flow.account.id;
  switch (offered) {
    case 'totp': {
      const factor = await deps.mfa.totp.verify(accountId, body.code ?? '');
      return factor ? { method: { kind: 'totp' } } : { failure: 'mfa.invalidCode' };
    }
    case 'recovery': {
      const used = await deps.mfa.recoveryCodes.use(accountId, body.recovery_code ?? '');
      return used ? { method: { kind: 'recovery' }, recoveryLeft: used.remaining } : { failure: 'mfa.invalidRecovery' };
    }
    case 'webauthn': {
      // A refused key throws MfaError (401): the step's refusal shows its message.
      const response = parseWebAuthnResponse<AuthenticationResponseJSON>(body.webauthn_response, 'authentication');
      const { factor, userVerified } = await deps.mfa.webauthn.authenticate(flow.uid, 'second-factor', response, accountId);
      return { method: { kind: 'webauthn', synced: factor.synced ?? false, userVerified } };
    }
  }
}

/** The field a refusal of `offered` is about. */
const FIELD = { totp: 'code', recovery: 'recovery_code', webauthn: 'key' } as const;
/** The security events' name of each factor, and why it was refused. */
const METHOD = { totp: 'totp', recovery: 'recovery_code', webauthn: 'webauthn' } as const satisfies Record<Offered, SignInMethod>;
const REFUSAL = { totp: 'invalid_code', recovery: 'invalid_recovery_code', webauthn: 'webauthn_refused' } as const satisfies Record<Offered, ReasonOf<'second_factor.refused'>>;

async function submitSecondFactorStep(deps: InteractionDependencies, ctx: Koa.Context, flow: SecondFactorFlow): Promise<Outcome<SecondFactorProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const accountId = flow.account.id;
  const { throttle } = deps;
  const offered = offeredFactor(body);
  if (offered === 'both') {
    // Nothing was tried: keep what was typed and ask which one was meant.
    return retry(400, {
      message: t('mfa.bothCodes'), fields: ['code', 'recovery_code'], typed: { code: body.code, recoveryCode: body.recovery_code },
    });
  }
  const who = { ...byAccount(ctx, accountId), client_id: String(flow.details.params.client_id), method: METHOD[offered] };
  await throttle.secondFactorAttempt(accountId, ctx.ip, who); // over a limit: ThrottledError, see refusal
  const verdict = await verify(deps, flow, offered, body);
  if ('failure' in verdict) {
    deps.events.emit({ type: 'second_factor.refused', outcome: 'failure', ...who, reason: REFUSAL[offered] });
    return retry(401, { message: t(verdict.failure), fields: [FIELD[offered]] });
  }
  deps.events.emit({ type: 'second_factor.passed', outcome: 'success', ...who });
  if (verdict.recoveryLeft !== undefined) {
    deps.events.emit({ type: 'recovery_code.used', outcome: 'success', ...who, details: { remaining: verdict.recoveryLeft } });
  }
  await throttle.secondFactorSucceeded(accountId, ctx.ip);
  const result = withSecondFactor(verdict.method, flow.amr);
  const rememberDevice = body.remember_device === '1';
  if (verdict.recoveryLeft === undefined) return finish(accountId, result, rememberDevice, METHOD[offered]);
  // A recovery code: say how many are left before going on.
  return advance('notice', progressOf(flow, { result, rememberDevice, notice: { kind: 'recovery-used', remaining: verdict.recoveryLeft } }));
}

export const secondFactorStep: StepModule<'second-factor', SecondFactorProblem> = {
  show: renderSecondFactorStep,
  actions: { 'second-factor': submitSecondFactorStep },
  refusal: (message, _action, body) => {
    const offered = offeredFactor(body);
    return { message, fields: [FIELD[offered === 'both' ? 'totp' : offered]] };
  },
  refusalEvent: (ctx, flow, _action, reason) => {
    const offered = offeredFactor(ctx.request.body as Record<string, string | undefined>);
    const method = METHOD[offered === 'both' ? 'totp' : offered];
    return {
      type: 'second_factor.refused', outcome: 'failure', ...byAccount(ctx, flow.account.id), client_id: String(flow.details.params.client_id),
      method, reason: reason === 'throttled' ? 'throttled' : REFUSAL[offered === 'both' ? 'totp' : offered],
    };
  },
};
