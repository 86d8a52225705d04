// Routes of the sign-in flow, all under /interaction/:uid (oidc-provider
// scopes the interaction cookie to that path). Every POST is same-origin,
// carries a CSRF token bound to the interaction, and must match the step the
// state machine says the interaction is in.
import Router from '@koa/router';
import type Koa from 'koa';
import { formBody } from '../http/body.ts';
import { csrfGuard, requireSameOrigin } from '../http/csrf.ts';
import { MfaError } from '../mfa/types.ts';
import { INTERACTION_PATH } from '../oidc/configuration.ts';
import { ThrottledError } from '../throttle/types.ts';
import { finishStep, showCurrentStep, type InteractionDependencies } from './context.ts';
import { consentStep } from './consent-step.ts';
import { enrolStep } from './enrol-step.ts';
import { finishLogin } from './finish-login.ts';
import { loadFlow, type FlowAt } from './flow.ts';
import { noticeStep } from './notice-step.ts';
import { retry, targetOf, throttled, type FormBody, type Outcome, type StepModule } from './outcome.ts';
import { passwordStep } from './password-step.ts';
import { secondFactorStep } from './second-factor-step.ts';
import { assertStep, assertTransition, type Step } from './state-machine.ts';
import { answerThrottled } from './throttled.ts';

/** Every step's page and POST actions; a step missing here does not compile. */
const STEPS: { [S in Step]: StepModule<S, unknown> } = {
  password: passwordStep,
  'second-factor': secondFactorStep,
  enrol: enrolStep,
  notice: noticeStep,
  consent: consentStep,
};

/** The one place a step's outcome happens, once the transition table allows it. */
export async function applyOutcome<S extends Step, P>(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<S>, outcome: Outcome<P> | void): Promise<void> {
  if (!outcome) return; // the step's page is rendered
  assertTransition(flow.step, targetOf(flow.step, outcome));
  const step = STEPS[flow.step] as unknown as StepModule<S, P>;
  switch (outcome.kind) {
    case 'finish':
      return finishLogin(deps, ctx, flow, outcome);
    case 'granted':
      return finishStep(deps, ctx, { consent: { grantId: outcome.grantId } });
    case 'advance':
      await deps.progress.save(flow.uid, outcome.progress);
      return showCurrentStep(ctx, flow.uid);
    case 'retry':
      ctx.status = outcome.status;
      await step.show(deps, ctx, flow, outcome.problem);
      return;
    case 'throttled': {
      const message = answerThrottled(ctx, outcome.seconds);
      await step.show(deps, ctx, flow, outcome.problem(message));
      ctx.status = 429;
      return;
    }
  }
}

/**
 * The one place a refused attempt becomes an outcome: over a limit, 429 and
 * the page with the wait; a refused factor, the page again with the error's
 * status and message. Anything else (a 403 for the wrong step, a 500) goes on
 * to the error pages.
 */
export function refusedOutcome<P>(deps: InteractionDependencies, ctx: Koa.Context, flow: FlowAt<Step>, step: StepModule<Step, P>, action: string, error: unknown): Outcome<P> {
  const refusal = step.refusal;
  if (!refusal || !(error instanceof ThrottledError || error instanceof MfaError)) throw error;
  const body = (ctx.request.body ?? {}) as FormBody;
  const problem = (message: string) => refusal(message, action, body);
  const event = step.refusalEvent?.(ctx, flow, action, error instanceof ThrottledError ? 'throttled' : 'refused');
  if (event) deps.events.emit(event);
  if (error instanceof ThrottledError) return throttled(error.retryAfterSeconds, problem);
  const accountId = 'account' in flow ? flow.account.id : undefined;
  deps.logger.info({ account_id: accountId, step: flow.step, action, reason: error.message }, 'sign-in attempt refused');
  return retry(error.status, problem(error.userMessage()));
}

/**
 * The sign-in router. Strict and case-sensitive (/INTERACTION/:uid or a
 * trailing slash is no route: 404), with the guards in each route's own
 * chain, so they match exactly when the route does (C58). Its `stack` lists
 * every route (the C58 test walks them).
 */
export function interactionRouter(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: INTERACTION_PATH, sensitive: true, strict: true });

  // Every form: same origin, a parsed body, and a CSRF token bound to this interaction.
  // (An expired interaction or the wrong step throws a LatchkeyError: 400 or 403 from the error pages.)
  const form: Koa.Middleware[] = [requireSameOrigin(deps.config.issuer), formBody(), csrfGuard(deps.csrfKey, (ctx) => ctx.params.uid)];

  router.get('/:uid', async (ctx) => {
    const flow = await loadFlow(deps, ctx);
    ctx.set('Cache-Control', 'no-store');
    const step = STEPS[flow.step] as StepModule<Step, unknown>;
    await applyOutcome(deps, ctx, flow, await step.show(deps, ctx, flow));
  });

  router.post('/:uid/abort', ...form, async (ctx) => {
    await loadFlow(deps, ctx);
    await deps.progress.clear(ctx.params.uid);
    await finishStep(deps, ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  for (const [name, step] of Object.entries(STEPS) as [Step, StepModule<Step, unknown>][]) {
    for (const [action, handler] of Object.entries(step.actions)) {
      router.post(`/:uid/${action}`, ...form, async (ctx) => {
        const flow = await loadFlow(deps, ctx);
        assertStep(flow.state, name);
        ctx.set('Cache-Control', 'no-store');
        const outcome = await handler(deps, ctx, flow).catch((error: unknown) => refusedOutcome(deps, ctx, flow, step, action, error));
        await applyOutcome(deps, ctx, flow, outcome);
      });
    }
  }

  return router;
}

export const interactionRoutes = (deps: InteractionDependencies): Koa.Middleware => interactionRouter(deps).routes() as unknown as Koa.Middleware;
