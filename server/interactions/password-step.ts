// Step "password": email + password. Unknown email, wrong password and a
// disabled account give the same page, status and (argon2) timing.
import type Koa from 'koa';
import { loginPage } from '../../views/login.ts';
import { t } from '../../views/strings.ts';
import { csrfToken } from '../http/csrf.ts';
import { finishStep, pageContext, type InteractionDependencies, type InteractionDetails } from './context.ts';

export const ACR_PASSWORD = 'urn:latchkey:acr:pwd';

export function renderPasswordStep(deps: InteractionDependencies, ctx: Koa.Context, details: InteractionDetails, clientName: string | undefined, p: { email?: string; error?: string } = {}) {
  ctx.type = 'html';
  ctx.body = loginPage(pageContext(deps.config, ctx), {
    action: `/interaction/${details.uid}/login`,
    csrfToken: csrfToken(deps.csrfKey, details.uid),
    email: p.email ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined),
    error: p.error,
    clientName,
  });
}

export async function submitPasswordStep(deps: InteractionDependencies, ctx: Koa.Context, details: InteractionDetails, clientName: string | undefined) {
  const body = ctx.request.body as Record<string, string | undefined>;
  const email = (body.email ?? '').trim();
  const password = body.password ?? '';
  const account = email && password ? await deps.passwords.authenticate(email, password) : undefined;
  if (!account) {
    ctx.status = 401;
    renderPasswordStep(deps, ctx, details, clientName, { email, error: t('login.invalid') });
    return;
  }
  await finishStep(deps, ctx, {
    login: { accountId: account.id, amr: ['pwd'], acr: ACR_PASSWORD, remember: true },
  });
}
