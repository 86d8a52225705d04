// Step "notice": the sign-in is proven, and one page remains before it
// finishes: fresh recovery codes (after enrolment) or how many are left
// (after using one).
import type Koa from 'koa';
import { recoveryCodesPage, recoveryUsedPage } from '../../views/recovery-codes.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import type { InteractionDependencies } from './context.ts';
import { finishLogin } from './finish-login.ts';
import type { Flow } from './flow.ts';

export function renderNoticeStep(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) {
  const notice = flow.progress!.notice;
  const next = { form: `/interaction/${flow.uid}/continue`, csrfToken: csrfToken(deps.csrfKey, flow.uid) };
  ctx.type = 'html';
  ctx.body = notice?.kind === 'recovery-codes'
    ? recoveryCodesPage(pageContext(deps.config, ctx), notice.codes, next)
    : recoveryUsedPage(pageContext(deps.config, ctx), notice?.remaining ?? 0, next);
}

export async function continueAfterNotice(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow) {
  const { accountId, result, rememberDevice } = flow.progress!;
  await finishLogin(deps, ctx, flow, accountId, result!, rememberDevice);
}
