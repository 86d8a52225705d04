import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { t } from './strings.ts';

export interface ErrorParams {
  title: string;
  /** Text meant for the user; never a stack trace or internal detail. */
  message: string;
  status?: number;
  /** A server error's request id: what to quote when reporting it. */
  requestId?: string;
}

export function errorPage(ctx: PageContext, p: ErrorParams): string {
  const body = html`
<p class="alert" role="alert">${p.message}</p>
${p.status ? html`<p class="muted">${t('error.status', { status: p.status })}</p>` : ''}
${p.requestId ? html`<p class="muted">${t('error.reference', { id: p.requestId })}</p>` : ''}`;
  return layout(ctx, p.title, body);
}
