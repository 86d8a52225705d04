// What the interaction routes need, injected (fosite style): no route reaches
// for a database or a global.
import type Koa from 'koa';
import { errors, type default as Provider } from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountLookup, PasswordAuthenticator, SignInSubjectLookup } from '../accounts/types.ts';
import type { Config } from '../config/index.ts';
import { InteractionExpiredError } from '../errors.ts';
import type { SecurityEvents } from '../events/security-event.ts';
import type { MfaServices } from '../mfa/index.ts';
import type { SignInProgressStore } from '../progress/sign-in-progress.ts';
import type { SignInThrottle } from '../throttle/types.ts';

/** What oidc-provider tells a sign-in step about the pending request. */
export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDependencies {
  config: Config;
  logger: Logger;
  provider: () => Provider;
  passwords: PasswordAuthenticator;
  accounts: AccountLookup & SignInSubjectLookup;
  mfa: MfaServices;
  throttle: SignInThrottle;
  progress: SignInProgressStore;
  csrfKey: Buffer;
  /** Sign-ins, second factors, enrolments and remembered devices are recorded here. */
  events: SecurityEvents;
}

/**
 * A call into oidc-provider's interaction API. Its SessionNotFound (no
 * interaction cookie, or the interaction expired) is where a foreign error
 * enters the sign-in flow: it becomes Latchkey's "this sign-in page has expired".
 */
export async function withInteraction<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof errors.SessionNotFound) throw new InteractionExpiredError(error.error_description ?? error.message, error);
    throw error;
  }
}

/** Redirects the browser back into oidc-provider with the step's result (303: never re-POST credentials). */
export async function finishStep(deps: InteractionDependencies, ctx: Koa.Context, result: InteractionResults): Promise<void> {
  const location = await withInteraction(() => deps.provider().interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
  ctx.status = 303;
  ctx.redirect(location);
}

/** Post/redirect/get: after a step's POST, show the interaction's current page. */
export function showCurrentStep(ctx: Koa.Context, uid: string): void {
  ctx.status = 303;
  ctx.redirect(`/interaction/${uid}`);
}
