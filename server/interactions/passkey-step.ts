// Passkey sign-in from the password step: a discoverable credential with
// user verification is both factors at once.
import type Koa from 'koa';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { passkeyOnly } from '../mfa/policy.ts';
import { MfaError } from '../mfa/types.ts';
import { parseWebAuthnResponse } from '../mfa/webauthn/response-json.ts';
import type { InteractionDependencies } from './context.ts';
import type { FlowAt } from './flow.ts';
import { finish, type Outcome } from './outcome.ts';
import type { PasswordProblem } from './password-step.ts';

/** A refused passkey throws MfaError (401): the password step's refusal shows it. */
export async function submitPasskey(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<'password'>): Promise<Outcome<PasswordProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const response = parseWebAuthnResponse<AuthenticationResponseJSON>(body.webauthn_response, 'authentication');
  const { accountId, factor } = await deps.mfa.webauthn.authenticate(flow.uid, 'passkey', response);
  const account = await deps.accounts.findById(accountId);
  if (!account || account.disabled) throw new MfaError('login.passkeyFailed', { status: 401, detail: 'account disabled or gone' });
  return finish(accountId, passkeyOnly({ synced: factor.synced ?? false }), false, 'passkey');
}
