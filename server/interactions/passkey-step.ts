// Passkey sign-in from the password step: a discoverable credential with
// user verification is both factors at once.
import type Koa from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { t } from '../../views/strings.ts';
import { passkeyOnly } from '../mfa/policy.ts';
import { MfaError } from '../mfa/types.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import { requestMeta } from '../events/request-meta.ts';
import type { InteractionDependencies } from './context.ts';
import type { FlowAt } from './flow.ts';
import { finish, retry, type Outcome } from './outcome.ts';
import type { PasswordProblem } from './password-step.ts';

export async function submitPasskey(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<'password'>): Promise<Outcome<PasswordProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  try {
    const response = parseWebAuthnResponse<AuthenticationResponseJSON>(body.webauthn_response);
    const { accountId, factor } = await deps.mfa.webauthn.authenticate(flow.uid, 'passkey', response);
    const account = await deps.accounts.findById(accountId);
    if (!account || account.disabled) throw new MfaError('login.passkeyFailed', 'account disabled or gone');
    return finish(accountId, passkeyOnly({ synced: factor.synced ?? false }), false, 'passkey');
  } catch (error) {
    if (!(error instanceof MfaError)) throw error;
    deps.logger.info({ detail: error.message }, 'passkey sign-in refused');
    deps.events.emit({
      type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, client_id: String(flow.details.params.client_id),
      method: 'passkey', reason: 'passkey_refused', ...requestMeta(ctx),
    });
    return retry(401, { error: t('login.passkeyFailed') });
  }
}
