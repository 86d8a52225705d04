import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { t } from './strings.ts';

export interface LoginParams {
  action: string;
  csrfToken: string;
  email?: string;
  error?: string;
  clientName?: string;
}

export function loginPage(ctx: PageContext, p: LoginParams): string {
  // Tie the error to both inputs so screen readers announce it on focus.
  const invalid = p.error ? html` aria-invalid="true" aria-describedby="login-error"` : '';
  const body = html`
${p.clientName && html`<p class="lead">${t('login.lead', { client: p.clientName })}</p>`}
${p.error && html`<p class="alert" id="login-error" role="alert">${p.error}</p>`}
<form method="post" action="${p.action}">
<input type="hidden" name="csrf" value="${p.csrfToken}">
<div class="field">
<label for="email">${t('login.email')}</label>
<input id="email" name="email" type="email" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${p.email ?? ''}"${invalid}${p.email ? '' : html` autofocus`}>
</div>
<div class="field">
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${p.email ? html` autofocus` : ''}>
</div>
<button type="submit" class="button primary">${t('login.submit')}</button>
</form>`;
  return layout(ctx, t('login.title'), body);
}
