// The sign-in flow as an explicit state machine. oidc-provider decides which
// prompt an authorization request still needs; this maps it to exactly one
// step, and a POST for any other step is refused: no URL skips a step.
//
//   password --(correct password)--> consent --(allow / first-party)--> done
//       \________________________________\__(abort)__> access_denied
export type Step = 'password' | 'consent';

export const STEPS_BY_PROMPT: Record<string, Step> = {
  login: 'password',
  consent: 'consent',
};

export class StepNotAllowedError extends Error {
  override name = 'StepNotAllowedError';
}

/** The step an interaction is in, from oidc-provider's pending prompt. */
export function currentStep(promptName: string): Step {
  const step = STEPS_BY_PROMPT[promptName];
  if (!step) throw new StepNotAllowedError(`unsupported prompt ${promptName}`);
  return step;
}

/** Throws unless `attempted` is the step the interaction is in. */
export function assertStep(promptName: string, attempted: Step): void {
  if (currentStep(promptName) !== attempted) {
    throw new StepNotAllowedError(`the ${attempted} step is not the current step`);
  }
}
