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
import { renderPasswordStep, submitPasswordStep } from './password-step.ts';
import { assertStep, currentStep, StepNotAllowedError } from './state-machine.ts';

export function interactionRoutes(deps: InteractionDependencies): Koa.Middleware {
  const router = new Router({ prefix: INTERACTION_PATH });

  // An expired or foreign interaction is a user-facing 400, not a 500.
  router.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof errors.SessionNotFound) ctx.throw(400, t('error.interaction_expired'));
      if (error instanceof StepNotAllowedError) ctx.throw(403, t('error.step_not_allowed'));
      throw error;
    }
  });
  // Every form: same origin, a parsed body, and a CSRF token bound to this interaction.
  router.post('/:uid/:action', requireSameOrigin(deps.config.issuer), formBody(), csrfGuard(deps.csrfKey, (ctx) => ctx.params.uid));

  const load = async (ctx: Koa.Context) => {
    const details = await deps.provider().interactionDetails(ctx.req, ctx.res);
    // The cookie must belong to the interaction in the URL.
    if (details.uid !== ctx.params.uid) throw new errors.SessionNotFound('interaction mismatch');
    const client = await deps.clients.findById(String(details.params.client_id));
    return { details, client, clientName: client?.name ?? String(details.params.client_id) };
  };

  router.get('/:uid', async (ctx) => {
    const { details, client, clientName } = await load(ctx);
    ctx.set('Cache-Control', 'no-store');
    switch (currentStep(details.prompt.name)) {
      case 'password':
        return renderPasswordStep(deps, ctx, details, clientName);
      case 'consent':
        if (client?.firstParty) return grantConsent(deps, ctx, details);
        return renderConsentStep(deps, ctx, details, clientName);
    }
  });

  router.post('/:uid/login', async (ctx) => {
    const { details, clientName } = await load(ctx);
    assertStep(details.prompt.name, 'password');
    ctx.set('Cache-Control', 'no-store');
    await submitPasswordStep(deps, ctx, details, clientName);
  });

  router.post('/:uid/consent', async (ctx) => {
    const { details } = await load(ctx);
    assertStep(details.prompt.name, 'consent');
    await grantConsent(deps, ctx, details);
  });

  router.post('/:uid/abort', async (ctx) => {
    await load(ctx);
    await finishStep(deps, ctx, { error: 'access_denied', error_description: 'End-User aborted interaction' });
  });

  return router.routes() as unknown as Koa.Middleware;
}
