// What a step's handler answers: what happens next, never done by the handler
// itself. routes.ts applies it, once TRANSITIONS (state-machine.ts) allows it.
import type Koa from 'koa';
import type { SecurityEventInput } from '../events/security-event.ts';
import type { SignInMethod } from '../events/security-event.ts';
import type { SignInResult } from '../mfa/policy.ts';
import type { SignInProgress } from '../progress/sign-in-progress.ts';
import type { InteractionDependencies } from './context.ts';
import type { FlowAt } from './flow.ts';
import type { Step, Target } from './state-machine.ts';

/** `P` is what the step's page says about a refused attempt. */
export type Outcome<P> =
  /** The login prompt is answered (remembering this browser when asked and allowed). */
  | { kind: 'finish'; accountId: string; result: SignInResult; rememberDevice?: boolean; method?: SignInMethod }
  /** The consent prompt is answered with this grant. */
  | { kind: 'granted'; grantId: string }
  /** Keep what is proven, then show the next step (post/redirect/get). */
  | { kind: 'advance'; to: Step; progress: SignInProgress }
  /** Nothing proven: the same page again, with `status` and the problem. */
  | { kind: 'retry'; status: number; problem: P }
  /** Over a limit: 429, Retry-After, and the page with the wait message. */
  | { kind: 'throttled'; seconds: number; problem: (message: string) => P };

/** `method`: what completed the sign-in (sign_in.succeeded's method); when absent, read from the amr. */
export const finish = (accountId: string, result: SignInResult, rememberDevice?: boolean, method?: SignInMethod): Outcome<never> =>
  ({ kind: 'finish', accountId, result, rememberDevice, method });
export const granted = (grantId: string): Outcome<never> => ({ kind: 'granted', grantId });
export const advance = (to: Step, progress: SignInProgress): Outcome<never> => ({ kind: 'advance', to, progress });
export const retry = <P>(status: number, problem: P): Outcome<P> => ({ kind: 'retry', status, problem });
export const throttled = <P>(seconds: number, problem: (message: string) => P): Outcome<P> => ({ kind: 'throttled', seconds, problem });

/** Where `outcome`, answered in step `from`, leads. */
export function targetOf(from: Step, outcome: Outcome<unknown>): Target {
  switch (outcome.kind) {
    case 'finish':
    case 'granted':
      return 'done';
    case 'advance':
      return outcome.to;
    case 'retry':
    case 'throttled':
      return from;
  }
}

/** The form a POST action sent. */
export type FormBody = Record<string, string | undefined>;

/**
 * A step: its page, and its POST actions (/interaction/:uid/<action>). Adding a step is one of these plus a TRANSITIONS row.
 * An action answers with an outcome, or throws: a refused attempt is a
 * ThrottledError or MfaError, which routes.ts (refusedOutcome) turns into a
 * `throttled` or `retry` outcome with the page's `refusal`; anything else goes
 * on to the error pages.
 */
export interface StepModule<S extends Step, P = never> {
  /** The page, with what the last attempt got wrong; or an outcome when the step needs no page. */
  show(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<S>, problem?: P): Promise<Outcome<P> | void>;
  actions: Record<string, (deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<S>) => Promise<Outcome<P>>>;
  /** How the page shows `message` about a refused POST of `action` (keeping what was typed). A step without it refuses nothing. */
  refusal?: (message: string, action: string, body: FormBody) => P;
  /** The security event a refused POST of `action` is (throttled, or an MfaError such as a refused key). */
  refusalEvent?: (ctx: Koa.Context, flow: FlowAt<S>, action: string, reason: 'throttled' | 'refused') => SecurityEventInput;
}
