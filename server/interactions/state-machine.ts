// The sign-in flow as an explicit state machine. oidc-provider decides which
// prompt an authorization request still needs (login or consent); this maps
// it, with what the interaction has proven so far, to exactly one step. A
// POST for any other step is refused: no URL skips a step.
//
//   password --(password ok, no factor, MFA not mandatory)------------------> done
//   password --(password ok, has factors)--> second-factor --(factor ok)----> done
//   password --(password ok, remembered device)-----------------------------> done
//   password --(passkey with user verification)-----------------------------> done
//   password --(password ok, MFA mandatory, no factor)--> enrol --(factor added)--> notice
//   second-factor --(recovery code)--> notice ("N codes left") --(continue)--> done
//   notice --(continue)--> done
//   step-up (signed in, login prompt only for a second factor or max_age):
//      --> second-factor (or enrol when MFA is mandatory and there is no factor)
//   done: the login prompt is answered; then consent --(allow / first-party)--> app
//   any step --(abort)--> access_denied
export type Step = 'password' | 'second-factor' | 'enrol' | 'notice' | 'consent';

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

export class StepNotAllowedError extends Error {
  override name = 'StepNotAllowedError';
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
