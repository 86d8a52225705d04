// Sign-in step "second-factor": a TOTP code, a security key or passkey, or a
// recovery code, in one form so the page offers each as an alternative (and
// "Remember this device" goes with any of them). Which one is used is decided
// by the field that is filled (second-factor-step.ts), not by the button.
import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { csrfField, describedBy, errorAlert, otherAccountForm, webauthnError, webauthnScripts } from './mfa-parts.ts';
import { t, tn } from './strings.ts';

/** What a refusal is about: a text field, or the security key button. */
export type SecondFactorField = 'code' | 'recovery_code' | 'key';

export interface SecondFactorProblem {
  message: string;
  fields: SecondFactorField[];
  /** Shown again when nothing was tried (both codes typed). */
  typed?: { code?: string; recoveryCode?: string };
}

export interface SecondFactorParams {
  action: string;
  /** Ends the sign-in ("Use another account"). */
  abortAction: string;
  csrfToken: string;
  accountEmail: string;
  hasTotp: boolean;
  /** Present when the account has WebAuthn credentials. */
  webauthnOptions?: unknown;
  /** Days a remembered device lasts; absent when the option is off for this client. */
  rememberDays?: number;
  problem?: SecondFactorProblem;
}

export function secondFactorPage(ctx: PageContext, p: SecondFactorParams): string {
  const about = (field: SecondFactorField) => p.problem?.fields.includes(field) ?? false;
  const tie = (field: SecondFactorField) => (about(field) ? describedBy('form-error', field !== 'key') : '');
  // Open when it is the only way, or when the problem is about its field.
  const recoveryOpen = !(p.hasTotp || p.webauthnOptions !== undefined) || about('recovery_code');
  const body = html`
<p class="lead">${t('mfa.lead', { account: p.accountEmail })}</p>
${errorAlert(p.problem?.message)}
${webauthnError()}
<form method="post" action="${p.action}" id="second-factor-form" data-method="webauthn">
${csrfField(p.csrfToken)}
<input type="hidden" name="webauthn_response" value="">
${p.hasTotp && html`
<div class="field">
<label for="code">${t('mfa.code')}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" value="${p.problem?.typed?.code ?? ''}"${tie('code')}${recoveryOpen ? '' : html` autofocus`}>
</div>`}
${p.rememberDays !== undefined && html`
<div class="field checkbox">
<input type="checkbox" id="remember-device" name="remember_device" value="1">
<label for="remember-device">${tn('mfa.remember', p.rememberDays)}</label>
</div>`}
${p.hasTotp && html`<button type="submit" class="button primary" name="method" value="totp">${t('mfa.verify')}</button>`}
${p.webauthnOptions !== undefined && html`<button type="button" class="button ${p.hasTotp ? 'secondary' : 'primary'}" id="security-key" data-webauthn="authenticate" data-error="${t('mfa.webauthn.failed')}"${tie('key')}>${t('mfa.securityKey')}</button>`}
<details class="recovery"${recoveryOpen ? html` open` : ''}>
<summary>${t('mfa.recoveryHeading')}</summary>
<div class="field">
<label for="recovery-code">${t('mfa.recoveryCode')}</label>
<input id="recovery-code" name="recovery_code" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="40" value="${p.problem?.typed?.recoveryCode ?? ''}"${tie('recovery_code')}${about('recovery_code') ? html` autofocus` : ''}>
</div>
<button type="submit" class="button secondary" name="method" value="recovery">${t('mfa.useRecovery')}</button>
<p class="muted hint" id="no-recovery">${t('mfa.noRecovery')}</p>
</details>
</form>
${otherAccountForm(p.abortAction, p.csrfToken)}
${p.webauthnOptions !== undefined && webauthnScripts(p.webauthnOptions, ctx.nonce)}`;
  return layout(ctx, t('mfa.title'), body);
}
