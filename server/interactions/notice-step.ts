// Step "notice": the sign-in is proven, and one page remains before it
// finishes: fresh recovery codes (after enrolment) or how many are left
// (after using one).
import type Koa from 'koa';
import { recoveryCodesPage, recoveryUsedPage } from '../../views/recovery-codes.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import type { InteractionDependencies } from './context.ts';
import type { FlowAt } from './flow.ts';
import { finish, type StepModule } from './outcome.ts';

type NoticeFlow = FlowAt<'notice'>;

async function renderNoticeStep(deps: InteractionDependencies, ctx: Koa.Context, flow: NoticeFlow) {
  const { notice } = flow.progress;
  const next = { form: `/interaction/${flow.uid}/continue`, csrfToken: csrfToken(deps.csrfKey, flow.uid) };
  ctx.type = 'html';
  ctx.body = notice?.kind === 'recovery-codes'
    ? recoveryCodesPage(pageContext(deps.config, ctx), notice.codes, next)
    : recoveryUsedPage(pageContext(deps.config, ctx), notice?.remaining ?? 0, next);
}

export const noticeStep: StepModule<'notice'> = {
  show: renderNoticeStep,
  // After a recovery code the sign-in was completed by it; after enrolment, by the new factor (read from the amr).
  actions: {
    continue: async (deps, ctx, flow) =>
      finish(flow.account.id, flow.result, flow.progress.rememberDevice, flow.progress.notice?.kind === 'recovery-used' ? 'recovery_code' : undefined),
  },
};
