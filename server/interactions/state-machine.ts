// The sign-in flow as an explicit state machine. oidc-provider decides which
// prompt an authorization request still needs (login or consent); this maps
// it, with what the interaction has proven so far, to exactly one step. A
// POST for any other step is refused: no URL skips a step. A step's handler
// answers with an outcome (outcome.ts); routes.ts applies it only where
// TRANSITIONS allows it.
//
//   step-up (signed in, login prompt only for a second factor or max_age):
//      starts at second-factor (or enrol when MFA is mandatory and there is no factor)
//   done: the login prompt is answered; then consent --(allow / first-party)--> app
//   any step --(abort)--> access_denied
import { LatchkeyError } from '../errors.ts';

/**
 * Where each step's outcome may lead: itself (a refused or throttled
 * attempt, shown again), the next step, or "done" (the prompt is answered).
 */
export const TRANSITIONS = {
  // password ok: done (no factor and MFA not mandatory, or a remembered device),
  // second-factor (has factors), enrol (MFA mandatory, no factor); a passkey: done.
  password: ['password', 'second-factor', 'enrol', 'done'],
  // a factor: done; a recovery code: notice ("N codes left").
  'second-factor': ['second-factor', 'notice', 'done'],
  // a factor added: notice (the new recovery codes).
  enrol: ['enrol', 'notice'],
  notice: ['done'],
  consent: ['done'],
} as const satisfies Record<string, readonly string[]>;

export type Step = keyof typeof TRANSITIONS;
/** Where an outcome leads: a step, or the end of the prompt. */
export type Target = Step | 'done';

/** A handler answered with an outcome its step may not lead to: a bug, so a 500. */
export class TransitionNotAllowedError extends LatchkeyError {
  override name = 'TransitionNotAllowedError';
  constructor(detail: string) {
    super('error.generic', detail, { status: 500 });
  }
}

/** Throws unless TRANSITIONS lets `from` lead to `to`: a handler cannot skip ahead. */
export function assertTransition(from: Step, to: Target): void {
  if (!(TRANSITIONS[from] as readonly Target[]).includes(to)) {
    throw new TransitionNotAllowedError(`the ${from} step cannot lead to ${to}`);
  }
}

/** Login reasons a signed-in session can answer without the password again. */
const STEP_UP_REASONS = new Set(['second_factor_needed', 'max_age']);
/** oidc-provider's reasons for an essential acr (claims parameter): a step-up too when that acr is MFA. */
const ESSENTIAL_ACR_REASONS = new Set(['essential_acr', 'essential_acrs']);

export interface SignInState {
  /** oidc-provider's pending prompt. */
  promptName: string;
  reasons: string[];
  /** The session's account, when the session is signed in. */
  sessionAccountId?: string;
  /** What this interaction proved (server/progress/sign-in-progress.ts). */
  progress?: { accountId: string; result?: unknown };
  /** Of the account the flow is about (progress's, else the session's). */
  account?: { hasFactors: boolean; mfaMandatory: boolean };
  /** The request asks for acr MFA (policy.ts requestsMfa). */
  requestedMfa?: boolean;
}

/** A page or POST of a step the interaction is not in: 403, never the step. */
export class StepNotAllowedError extends LatchkeyError {
  override name = 'StepNotAllowedError';
  constructor(detail: string) {
    super('error.step_not_allowed', detail, { status: 403 });
  }
}

/**
 * The account whose first factor is already proven: by this interaction's
 * password step, or by the session when only a second factor is missing (a
 * max_age re-authentication needs the password again when there is no
 * second factor to ask for).
 */
export function provenAccountId(state: SignInState): string | undefined {
  if (state.progress) return state.progress.accountId;
  if (state.promptName !== 'login' || !state.sessionAccountId || state.reasons.length === 0) return undefined;
  const stepUp = (reason: string) => STEP_UP_REASONS.has(reason) || (state.requestedMfa === true && ESSENTIAL_ACR_REASONS.has(reason));
  if (!state.reasons.every(stepUp)) return undefined;
  if (state.reasons.includes('max_age') && !state.account?.hasFactors) return undefined;
  return state.sessionAccountId;
}

/** The step an interaction is in. */
export function currentStep(state: SignInState): Step {
  if (state.promptName === 'consent') return 'consent';
  if (state.promptName !== 'login') throw new StepNotAllowedError(`unsupported prompt ${state.promptName}`);
  if (state.progress?.result) return 'notice';
  if (!provenAccountId(state) || !state.account) return 'password';
  if (state.account.hasFactors) return 'second-factor';
  if (state.account.mfaMandatory) return 'enrol';
  return 'password';
}

/** Throws unless `attempted` is the step the interaction is in. */
export function assertStep(state: SignInState, attempted: Step): void {
  if (currentStep(state) !== attempted) {
    throw new StepNotAllowedError(`the ${attempted} step is not the current step`);
  }
}
