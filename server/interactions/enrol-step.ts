// Step "enrol": MFA is mandatory (policy, client or account) and the account
// has no factor yet: it adds one inside the sign-in, then sees its recovery
// codes (step "notice") before the sign-in finishes.
import type Koa from 'koa';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { enrolPage } from '../../views/enrol.ts';
import { t } from '../../views/strings.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import { addedFactor, withSecondFactor, type SecondFactorMethod } from '../mfa/policy.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { byAccount } from '../events/request-meta.ts';
import { factorKind } from '../events/factor-kind.ts';
import type { Factor } from '../mfa/types.ts';
import type { InteractionDependencies } from './context.ts';
import { progressOf, type FlowAt } from './flow.ts';
import { advance, retry, type Outcome, type StepModule } from './outcome.ts';

/** What the enrol page says about a refused set-up, per form. */
interface EnrolProblem {
  totp?: string;
  key?: string;
}

type EnrolFlow = FlowAt<'enrol'>;

async function renderEnrolStep(deps: InteractionDependencies, ctx: Koa.Context, flow: EnrolFlow, errors: EnrolProblem = {}) {
  const { account } = flow;
  // Keep one secret per interaction so a wrong code shows the same QR code again.
  const setup = await deps.mfa.totp.setup(account.email, flow.progress?.pendingTotpSecret);
  await deps.progress.save(flow.uid, progressOf(flow, { ...flow.progress, pendingTotpSecret: setup.secret }));
  const csrf = csrfToken(deps.csrfKey, flow.uid);
  ctx.type = 'html';
  ctx.body = enrolPage(pageContext(deps.config, ctx), {
    totp: { action: `/interaction/${flow.uid}/enrol/totp`, csrfToken: csrf, secret: setup.secret, qrSvg: setup.qrSvg, error: errors.totp },
    key: { action: `/interaction/${flow.uid}/enrol/webauthn`, csrfToken: csrf, error: errors.key },
    webauthnOptions: await deps.mfa.webauthn.registrationOptions(flow.uid, account),
    abort: { action: `/interaction/${flow.uid}/abort`, csrfToken: csrf },
  });
}

/** The first factor is in: issue recovery codes and show them before finishing. */
async function enrolled(deps: InteractionDependencies, ctx: Koa.Context, flow: EnrolFlow, factor: Factor): Promise<Outcome<never>> {
  const accountId = flow.account.id;
  const method: SecondFactorMethod = addedFactor(factor);
  const who = { ...byAccount(ctx, accountId), client_id: String(flow.details.params.client_id) };
  deps.events.emit({ type: 'factor.added', outcome: 'success', ...who, details: { kind: factorKind(factor), factor_id: factor.id, during: 'sign_in' } });
  const codes = await deps.mfa.recoveryCodes.regenerate(accountId);
  deps.events.emit({ type: 'recovery_codes.regenerated', outcome: 'success', ...who, details: { count: codes.length } });
  return advance('notice', progressOf(flow, { result: withSecondFactor(method, flow.amr), notice: { kind: 'recovery-codes', codes } }));
}

async function submitTotpEnrolment(deps: InteractionDependencies, ctx: Koa.Context, flow: EnrolFlow): Promise<Outcome<EnrolProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const secret = flow.progress?.pendingTotpSecret;
  const factor = secret ? await deps.mfa.totp.confirm(flow.account.id, body.name ?? '', secret, body.code ?? '') : undefined;
  if (!factor) return retry(401, { totp: t('mfa.invalidCode') });
  return enrolled(deps, ctx, flow, factor);
}

async function submitKeyEnrolment(deps: InteractionDependencies, ctx: Koa.Context, flow: EnrolFlow): Promise<Outcome<EnrolProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  // A refused key throws MfaError (400): the step's refusal shows it by the key form.
  const response = parseWebAuthnResponse<RegistrationResponseJSON>(body.webauthn_response, 'registration');
  const factor = await deps.mfa.webauthn.register(flow.uid, flow.account.id, body.name ?? '', response);
  return enrolled(deps, ctx, flow, factor);
}

export const enrolStep: StepModule<'enrol', EnrolProblem> = {
  show: renderEnrolStep,
  actions: { 'enrol/totp': submitTotpEnrolment, 'enrol/webauthn': submitKeyEnrolment },
  refusal: (message, action) => (action === 'enrol/webauthn' ? { key: message } : { totp: message }),
};
