// Everything a step needs to know about the interaction in the URL: the
// pending request, its client's MFA settings, what was proven so far, and the
// state machine's view of it.
import type Koa from 'koa';
import { issuedBeforeRevocation, type Account } from '../accounts/types.ts';
import { InteractionExpiredError } from '../errors.ts';
import { mfaMandatory, requestsMfa, type SignInResult } from '../mfa/policy.ts';
import { hasAnyFactor, type FactorSummary } from '../mfa/types.ts';
import { signInClientSettings, type SignInClientSettings } from '../oidc/account-client.ts';
import { interactionIssuedAt } from '../oidc/internals.ts';
import { withInteraction, type InteractionDependencies, type InteractionDetails } from './context.ts';
import type { SignInProgress } from '../progress/sign-in-progress.ts';
import { currentStep, provenAccountId, StepNotAllowedError, type SignInState, type Step } from './state-machine.ts';

interface FlowBase {
  uid: string;
  details: InteractionDetails;
  client: SignInClientSettings;
  state: SignInState;
}

/** What is proven of the account: its password (or the session, for a step-up), and when. */
export interface Proven {
  account: Account;
  /** Its factors in brief, loaded with it (one query per request). */
  factors: FactorSummary;
  /** amr proven before the second factor: ['pwd'], or the session's for a step-up. */
  amr: string[];
  /** Epoch seconds: a sign-out everywhere since voids it. */
  provenAt: number;
}

/** The interaction in one step: past the password, the proven account is always there. */
export type Flow =
  | FlowBase & { step: 'password' }
  | FlowBase & Proven & { step: 'second-factor'; progress?: SignInProgress }
  | FlowBase & Proven & { step: 'enrol'; progress?: SignInProgress }
  | FlowBase & Proven & { step: 'notice'; progress: SignInProgress; result: SignInResult }
  | FlowBase & { step: 'consent' };

export type FlowAt<S extends Step> = Extract<Flow, { step: S }>;

export async function loadFlow(deps: InteractionDependencies, ctx: Koa.Context): Promise<Flow> {
  const details = await withInteraction(() => deps.provider().interactionDetails(ctx.req, ctx.res));
  // The cookie must belong to the interaction in the URL.
  if (details.uid !== ctx.params.uid) throw new InteractionExpiredError('interaction mismatch');
  const client = await signInClientSettings(deps.provider().Client, String(details.params.client_id));
  const stored = await deps.progress.get(details.uid);
  const candidateId = stored?.accountId ?? details.session?.accountId;
  // The account with its factors, in one query: the state machine and the step's page both use them.
  const subject = candidateId ? await deps.accounts.findSignInSubject(candidateId) : undefined;
  const candidate = subject?.account;
  // A sign-out everywhere (or new password) since the password was proven, or
  // since this interaction began for a step-up, voids what was proven.
  const provenSince = stored ? stored.provenAt : interactionIssuedAt(details);
  const usable = candidate && !candidate.disabled && !issuedBeforeRevocation(candidate, provenSince) ? candidate : undefined;
  const hasFactors = usable && subject ? hasAnyFactor(subject.factors) : false;
  const state: SignInState = {
    promptName: details.prompt.name,
    reasons: details.prompt.reasons,
    sessionAccountId: details.session?.accountId,
    progress: stored && usable ? { accountId: stored.accountId, result: stored.result } : undefined,
    account: usable && { hasFactors, mfaMandatory: mustUseMfa(deps, details, client, usable) },
    requestedMfa: requestsMfa(details.params),
  };
  const base: FlowBase = { uid: details.uid, details, client, state };
  const step = currentStep(state);
  if (step === 'password' || step === 'consent') return { ...base, step };
  // currentStep leaves the password behind only for a usable, proven account.
  if (!usable || !subject || provenAccountId(state) !== usable.id) throw new StepNotAllowedError('no proven account');
  const progress = state.progress ? stored : undefined;
  const proven: Proven = {
    account: usable,
    factors: subject.factors,
    amr: progress?.amr ?? (details.session as { amr?: string[] } | undefined)?.amr ?? ['pwd'],
    provenAt: progress?.provenAt ?? interactionIssuedAt(details) ?? Math.floor(Date.now() / 1000),
  };
  if (step !== 'notice') return { ...base, ...proven, step, progress };
  if (!progress?.result) throw new StepNotAllowedError('no result to show a notice for');
  return { ...base, ...proven, step, progress, result: progress.result };
}

/** The progress to keep for a proven flow: what is proven, plus `patch`. */
export const progressOf = (flow: Proven, patch: Partial<SignInProgress> = {}): SignInProgress =>
  ({ accountId: flow.account.id, amr: flow.amr, provenAt: flow.provenAt, ...patch });

/** Must this sign-in end with two factors even when the account has none (policy, client, user, or the request's acr)? */
export const mustUseMfa = (deps: InteractionDependencies, details: InteractionDetails, client: SignInClientSettings, account: Account): boolean =>
  mfaMandatory({ policy: deps.config.mfa.policy, account, client, request: details.params });

