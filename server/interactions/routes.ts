// Routes of the sign-in flow, all under /interaction/:uid (oidc-provider
// scopes the interaction cookie to that path). Every POST is same-origin,
// carries a CSRF token bound to the interaction, and must match the step the
// state machine says the interaction is in.
import Router from '@koa/router';
import type Koa from 'koa';
import { errors } from 'oidc-provider';
import { t } from '../../views/strings.ts';
import { formBody } from '../http/body.ts';
import { csrfGuard, requireSameOrigin } from '../http/csrf.ts';
import { INTERACTION_PATH } from '../oidc/configuration.ts';
import type { InteractionDependencies } from './context.ts';
import { finishStep } from './context.ts';
import { grantConsent, renderConsentStep } from './consent-step.ts';
import { renderEnrolStep, submitKeyEnrolment, submitTotpEnrolment } from './enrol-step.ts';
import { loadFlow, type Flow } from './flow.ts';
import { continueAfterNotice, renderNoticeStep } from './notice-step.ts';
import { submitPasskey } from './passkey-step.ts';
import { renderPasswordStep, submitPasswordStep } from './password-step.ts';
import { renderSecondFactorStep, submitSecondFactorStep } from './second-factor-step.ts';
import { assertStep, StepNotAllowedError, type Step } from './state-machine.ts';

type Handler = (deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) => Promise<void>;

/** POST actions: the step each belongs to, and its handler. */
const ACTIONS: Record<string, [Step, Handler]> = {
  login: ['password', submitPasswordStep],
  passkey: ['password', submitPasskey],
  'second-factor': ['second-factor', submitSecondFactorStep],
  'enrol/totp': ['enrol', submitTotpEnrolment],
  'enrol/webauthn': ['enrol', submitKeyEnrolment],
  continue: ['notice', continueAfterNotice],
  consent: ['consent', (deps, ctx, flow) => grantConsent(deps, ctx, flow.details)],
};

/**
 * The sign-in router. Strict and case-sensitive (/INTERACTION/:uid or a
 * trailing slash is no route: 404), with the guards in each route's own
 * chain, so they match exactly when the route does (C58). Its `stack` lists
 * every route (the C58 test walks them).
 */
export function interactionRouter(deps: InteractionDependencies): Router {
  const router = new Router({ prefix: INTERACTION_PATH, sensitive: true, strict: true });

  // An expired or foreign interaction is a user-facing 400, not a 500.
  const userErrors: Koa.Middleware = async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof errors.SessionNotFound) ctx.throw(400, t('error.interaction_expired'));
      if (error instanceof StepNotAllowedError) ctx.throw(403, t('error.step_not_allowed'));
      throw error;
    }
  };
  // Every form: same origin, a parsed body, and a CSRF token bound to this interaction.
  const form: Koa.Middleware[] = [userErrors, requireSameOrigin(deps.config.issuer), formBody(), csrfGuard(deps.csrfKey, (ctx) => ctx.params.uid)];

  router.get('/:uid', userErrors, async (ctx) => {
    const flow = await loadFlow(deps, ctx);
    ctx.set('Cache-Control', 'no-store');
    switch (flow.step) {
      case 'password':
        return renderPasswordStep(deps, ctx, flow);
      case 'second-factor':
        return renderSecondFactorStep(deps, ctx, flow);
      case 'enrol':
        return renderEnrolStep(deps, ctx, flow);
      case 'notice':
        return renderNoticeStep(deps, ctx, flow);
      case 'consent':
        if (flow.client.firstParty) return grantConsent(deps, ctx, flow.details);
        return renderConsentStep(deps, ctx, flow.details, flow.client.name);
    }
  });

  router.post('/:uid/abort', ...form, async (ctx) => {
    await loadFlow(deps, ctx);
    await deps.progress.clear(ctx.params.uid);
    await finishStep(deps, ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  for (const [action, [step, handler]] of Object.entries(ACTIONS)) {
    router.post(`/:uid/${action}`, ...form, async (ctx) => {
      const flow = await loadFlow(deps, ctx);
      assertStep(flow.state, step);
      ctx.set('Cache-Control', 'no-store');
      await handler(deps, ctx, flow);
    });
  }

  return router;
}

export const interactionRoutes = (deps: InteractionDependencies): Koa.Middleware => interactionRouter(deps).routes() as unknown as Koa.Middleware;
