// Step "enrol": MFA is mandatory (policy, client or account) and the account
// has no factor yet: it adds one inside the sign-in, then sees its recovery
// codes (step "notice") before the sign-in finishes.
import type Koa from 'koa';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { enrolPage } from '../../views/enrol.ts';
import { t, type StringKey } from '../../views/strings.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import { addedFactor, withSecondFactor, type SecondFactorMethod } from '../mfa/policy.ts';
import { MfaError } from '../mfa/types.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { showCurrentStep, type InteractionDependencies } from './context.ts';
import { provenAmr, provenAt, type Flow } from './flow.ts';

export async function renderEnrolStep(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow, errors: { totp?: string; key?: string } = {}) {
  const account = flow.account!;
  // Keep one secret per interaction so a wrong code shows the same QR code again.
  const setup = await deps.mfa.totp.setup(account.email, flow.progress?.pendingTotpSecret);
  await deps.progress.save(flow.uid, { accountId: account.id, amr: provenAmr(flow), provenAt: provenAt(flow), ...flow.progress, pendingTotpSecret: setup.secret });
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
async function enrolled(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow, method: SecondFactorMethod) {
  const accountId = flow.account!.id;
  const codes = await deps.mfa.recoveryCodes.regenerate(accountId);
  deps.logger.info({ accountId, kind: method.kind }, 'second factor enrolled during sign-in');
  await deps.progress.save(flow.uid, {
    accountId, amr: provenAmr(flow), provenAt: provenAt(flow), result: withSecondFactor(method, provenAmr(flow)), notice: { kind: 'recovery-codes', codes },
  });
  showCurrentStep(ctx, flow.uid);
}

export async function submitTotpEnrolment(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) {
  const body = ctx.request.body as Record<string, string | undefined>;
  const secret = flow.progress?.pendingTotpSecret;
  const factor = secret ? await deps.mfa.totp.confirm(flow.account!.id, body.name ?? '', secret, body.code ?? '') : undefined;
  if (!factor) {
    ctx.status = 401;
    return renderEnrolStep(deps, ctx, flow, { totp: t('mfa.invalidCode') });
  }
  await enrolled(deps, ctx, flow, addedFactor(factor));
}

export async function submitKeyEnrolment(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) {
  const body = ctx.request.body as Record<string, string | undefined>;
  try {
    const response = parseWebAuthnResponse<RegistrationResponseJSON>(body.webauthn_response);
    const factor = await deps.mfa.webauthn.register(flow.uid, flow.account!.id, body.name ?? '', response);
    await enrolled(deps, ctx, flow, addedFactor(factor));
  } catch (error) {
    if (!(error instanceof MfaError)) throw error;
    ctx.status = 400;
    await renderEnrolStep(deps, ctx, flow, { key: t(error.messageKey as StringKey) });
  }
}
