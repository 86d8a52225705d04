import { html, raw } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { t } from './strings.ts';

export interface LogoutParams {
  /** oidc-provider's `<form id="op.logoutForm">` with its own xsrf field; trusted markup. */
  formHtml: string;
  clientName?: string;
}

/** For features.rpInitiatedLogout.logoutSource. */
export function logoutPage(ctx: PageContext, p: LogoutParams): string {
  const question = p.clientName
    ? t('logout.questionFrom', { client: p.clientName, product: ctx.productName })
    : t('logout.question', { product: ctx.productName });
  // The buttons sit outside oidc-provider's form and point at it via form="".
  const body = html`
<p class="lead">${question}</p>
${raw(p.formHtml)}
<div class="actions">
<button type="submit" class="button primary" form="op.logoutForm" name="logout" value="yes" autofocus>${t('logout.confirm')}</button>
<button type="submit" class="button secondary" form="op.logoutForm">${t('logout.stay')}</button>
</div>`;
  return layout(ctx, t('logout.title'), body);
}

/** For features.rpInitiatedLogout.postLogoutSuccessSource. */
export function loggedOutPage(ctx: PageContext, p: { clientName?: string }): string {
  const message = p.clientName ? t('loggedOut.messageFrom', { client: p.clientName }) : t('loggedOut.message');
  return layout(ctx, t('loggedOut.title'), html`<p class="lead">${message}</p>`);
}
