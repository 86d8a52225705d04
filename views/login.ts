import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { csrfField, webauthnError, webauthnScripts } from './mfa-parts.ts';
import { t } from './strings.ts';

export interface LoginParams {
  action: string;
  csrfToken: string;
  email?: string;
  error?: string;
  clientName?: string;
  /** Passkey sign-in: where the assertion goes and the discoverable-credential options. */
  passkey?: { action: string; options: unknown };
}

export function loginPage(ctx: PageContext, p: LoginParams): string {
  // Tie the error to both inputs so screen readers announce it on focus.
  const invalid = p.error ? html` aria-invalid="true" aria-describedby="login-error"` : '';
  const body = html`
${p.clientName && html`<p class="lead">${t('login.lead', { client: p.clientName })}</p>`}
${p.error && html`<p class="alert" id="login-error" role="alert">${p.error}</p>`}
<form method="post" action="${p.action}">
${csrfField(p.csrfToken)}
<div class="field">
<label for="email">${t('login.email')}</label>
<input id="email" name="email" type="email" autocomplete="username${p.passkey ? ' webauthn' : ''}" autocapitalize="none" spellcheck="false" required value="${p.email ?? ''}"${invalid}${p.email ? '' : html` autofocus`}>
</div>
<div class="field">
<label for="password">${t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${p.email ? html` autofocus` : ''}>
</div>
<button type="submit" class="button primary">${t('login.submit')}</button>
</form>
${p.passkey && html`
<p class="divider"><span>${t('login.or')}</span></p>
${webauthnError()}
<form method="post" action="${p.passkey.action}" id="passkey-form" data-webauthn-autofill>
${csrfField(p.csrfToken)}
<input type="hidden" name="webauthn_response" value="">
<button type="button" class="button secondary" id="passkey-signin" data-webauthn="authenticate" data-error="${t('login.passkeyFailed')}">${t('login.passkey')}</button>
</form>
${webauthnScripts(p.passkey.options, ctx.nonce)}`}`;
  return layout(ctx, t('login.title'), body);
}
