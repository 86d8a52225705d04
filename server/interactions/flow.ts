// Everything a step needs to know about the interaction in the URL: the
// pending request, its client's MFA settings, what was proven so far, and the
// state machine's view of it.
import type Koa from 'koa';
import { errors } from 'oidc-provider';
import { issuedBeforeRevocation, type Account } from '../accounts/types.ts';
import { mfaMandatory, requestsMfa } from '../mfa/policy.ts';
import { signInClientSettings, type SignInClientSettings } from '../oidc/account-client.ts';
import { interactionIssuedAt } from '../oidc/internals.ts';
import type { InteractionDependencies, InteractionDetails } from './context.ts';
import type { SignInProgress } from '../progress/sign-in-progress.ts';
import { currentStep, provenAccountId, type SignInState, type Step } from './state-machine.ts';

export interface Flow {
  uid: string;
  details: InteractionDetails;
  client: SignInClientSettings;
  progress?: SignInProgress;
  /** The account whose first factor is proven (password, or the session for a step-up). */
  account?: Account;
  state: SignInState;
  step: Step;
}

export async function loadFlow(deps: InteractionDependencies, ctx: Koa.Context): Promise<Flow> {
  const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
  // The cookie must belong to the interaction in the URL.
  if (details.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
  const client = await signInClientSettings(deps.clients, String(details.params.client_id));
  const progress = await deps.progress.get(details.uid);
  const candidateId = progress?.accountId ?? details.session?.accountId;
  const candidate = candidateId ? await deps.accounts.findById(candidateId) : undefined;
  // A sign-out everywhere (or new password) since the password was proven, or
  // since this interaction began for a step-up, voids what was proven.
  const provenSince = progress ? progress.provenAt : interactionIssuedAt(details);
  const usable = candidate && !candidate.disabled && !issuedBeforeRevocation(candidate, provenSince) ? candidate : undefined;
  const hasFactors = usable ? await deps.mfa.factors.hasFactors(usable.id) : false;
  const state: SignInState = {
    promptName: details.prompt.name,
    reasons: details.prompt.reasons,
    sessionAccountId: details.session?.accountId,
    progress: progress && usable ? { accountId: progress.accountId, result: progress.result } : undefined,
    account: usable && { hasFactors, mfaMandatory: mustUseMfa(deps, details, client, usable) },
    requestedMfa: requestsMfa(details.params),
  };
  const provenId = provenAccountId(state);
  return {
    uid: details.uid,
    details,
    client,
    progress: state.progress ? progress : undefined,
    account: provenId ? usable : undefined,
    state,
    step: currentStep(state),
  };
}

/** When the first factor was proven: this flow's password, or the session's sign-in (as of this interaction). */
export const provenAt = (flow: Flow): number =>
  flow.progress?.provenAt ?? interactionIssuedAt(flow.details) ?? Math.floor(Date.now() / 1000);

/** Must this sign-in end with two factors even when the account has none (policy, client, user, or the request's acr)? */
export const mustUseMfa = (deps: InteractionDependencies, details: InteractionDetails, client: SignInClientSettings, account: Account): boolean =>
  mfaMandatory({ policy: deps.config.mfa.policy, account, client }) || requestsMfa(details.params);

/** What was proven before the second factor: this flow's password, or the session's sign-in. */
export const provenAmr = (flow: Flow): string[] => flow.progress?.amr ?? (flow.details.session as { amr?: string[] } | undefined)?.amr ?? ['pwd'];
