// Recovery codes, shown once (after the first factor, or when regenerated),
// and the notice after signing in with one.
import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { csrfField, recoveryCodesBlock } from './mfa-parts.ts';
import { t, tn } from './strings.ts';

/** `next`: a form to continue the sign-in, or a link back to the account page. */
export type Next = { form: string; csrfToken: string } | { link: string };

const nextControl = (next: Next) => ('form' in next
  ? html`<form method="post" action="${next.form}">${csrfField(next.csrfToken)}<button type="submit" class="button primary">${t('mfa.continue')}</button></form>`
  : html`<p><a class="button primary" href="${next.link}">${t('account.back')}</a></p>`);

export function recoveryCodesPage(ctx: PageContext, codes: string[], next: Next): string {
  return layout(ctx, t('recovery.title'), html`${recoveryCodesBlock(codes, ctx.productName)}${nextControl(next)}`);
}

export function recoveryUsedPage(ctx: PageContext, remaining: number, next: Next): string {
  const body = html`
<p class="lead" id="recovery-left">${tn('mfa.recoveryLeft', remaining)}</p>
${remaining <= 3 && html`<p>${t('mfa.recoveryLow')}</p>`}
${nextControl(next)}`;
  return layout(ctx, t('mfa.title'), body);
}
