// Passkey sign-in from the password step: a discoverable credential with
// user verification is both factors at once.
import type Koa from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { passkeyOnly } from '../mfa/policy.ts';
import { requestMeta } from '../events/request-meta.ts';
import { t } from '../../views/strings.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import type { InteractionDependencies } from './context.ts';
import type { FlowAt } from './flow.ts';
import { finish, retry, type Outcome } from './outcome.ts';
import type { PasswordProblem } from './password-step.ts';

/** A refused passkey throws MfaError (401): the password step's refusal shows it. */
export async function submitPasskey(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<'password'>): Promise<Outcome<PasswordProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const response = parseWebAuthnResponse<AuthenticationResponseJSON>(body.webauthn_response, 'authentication');
  const { accountId, factor } = await deps.mfa.webauthn.authenticate(flow.uid, 'passkey', response);
  const account = await deps.accounts.findById(accountId);
  if (!account || account.disabled) {
    // The key is right but the account may not sign in: refused like any passkey, recorded as what it is.
    deps.events.emit({
      type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, client_id: String(flow.details.params.client_id),
      method: 'passkey', reason: 'account_disabled', ...requestMeta(ctx),
    });
    return retry(401, { error: t('login.passkeyFailed') });
  }
  return finish(accountId, passkeyOnly({ synced: factor.synced ?? false }), false, 'passkey');
}
