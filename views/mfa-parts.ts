// Pieces shared by the sign-in MFA pages and the account page: the WebAuthn
// glue, the TOTP set-up block, the security-key block, recovery code lists.
import { html, raw, type SafeHtml } from './html.ts';
import { t } from './strings.ts';

/**
 * WebAuthn options as inert JSON (never executed; it carries the nonce like
 * every inline element, so the CSP stays uniform), then the scripts that use them.
 */
export function webauthnScripts(options: unknown, nonce: string): SafeHtml {
  // `<` escaped so the JSON cannot close its script element.
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  return html`<script type="application/json" id="webauthn-options" nonce="${nonce}">${raw(json)}</script>
<script src="/static/vendor/simplewebauthn/index.umd.min.js"></script>
<script src="/static/webauthn.js"></script>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

export const errorAlert = (error: string | undefined, id = 'form-error') =>
  error && html`<p class="alert" id="${id}" role="alert">${error}</p>`;

/** Ties an error to the control it is about, as the login page does: announced on focus. */
export const describedBy = (errorId: string, invalid = true): SafeHtml =>
  html`${invalid ? html` aria-invalid="true"` : ''} aria-describedby="${errorId}"`;

/**
 * "Use another account": ends this sign-in (POST /interaction/:uid/abort, the
 * app hears access_denied; the account page starts a new sign-in).
 */
export const otherAccountForm = (action: string, csrf: string): SafeHtml =>
  html`<form method="post" action="${action}" class="other-account">${csrfField(csrf)}<button type="submit" class="button link">${t('mfa.otherAccount')}</button></form>`;

/** Filled by webauthn.js when the browser cannot run a ceremony. */
export const webauthnError = () => html`<p class="alert" id="webauthn-error" role="alert" hidden></p>`;

export interface TotpSetupView {
  action: string;
  csrfToken: string;
  secret: string;
  qrSvg: string;
  error?: string;
}

export function totpSetupBlock(p: TotpSetupView): SafeHtml {
  // Group the key in fours so it can be typed by hand.
  const grouped = p.secret.replace(/(.{4})(?=.)/g, '$1 ');
  return html`
<p>${t('enrol.totpHelp')}</p>
<div class="qr" id="totp-qr" role="img" aria-label="${t('enrol.qrLabel')}">${raw(p.qrSvg)}</div>
<p class="secret">${t('enrol.secret')}: <code id="totp-secret" data-secret="${p.secret}">${grouped}</code></p>
${errorAlert(p.error, 'totp-error')}
<form method="post" action="${p.action}" id="totp-enrol">
${csrfField(p.csrfToken)}
<div class="field">
<label for="totp-code">${t('mfa.code')}</label>
<input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required${p.error ? describedBy('totp-error') : ''}>
</div>
<div class="field">
<label for="totp-name">${t('enrol.totpName')}</label>
<input id="totp-name" name="name" maxlength="60" value="${t('enrol.totpDefaultName')}">
</div>
<button type="submit" class="button primary">${t('enrol.confirm')}</button>
</form>`;
}

export function securityKeyBlock(p: { action: string; csrfToken: string; error?: string }): SafeHtml {
  return html`
<p>${t('enrol.keyHelp')}</p>
${errorAlert(p.error, 'key-error')}
${webauthnError()}
<form method="post" action="${p.action}" id="webauthn-enrol">
${csrfField(p.csrfToken)}
<input type="hidden" name="webauthn_response" value="">
<div class="field">
<label for="key-name">${t('enrol.keyName')}</label>
<input id="key-name" name="name" maxlength="60" value="${t('enrol.keyDefaultName')}">
</div>
<button type="button" class="button primary" id="register-key" data-webauthn="register"${p.error ? describedBy('key-error', false) : ''}>${t('enrol.addKey')}</button>
</form>`;
}

export function recoveryCodesBlock(codes: string[], productName: string): SafeHtml {
  const text = `${productName} recovery codes\n\n${codes.join('\n')}\n`;
  return html`
<p>${t('recovery.lead')}</p>
<ol class="codes" id="recovery-codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
<p class="actions">
<a class="button secondary" id="download-codes" download="recovery-codes.txt" href="data:text/plain;charset=utf-8,${encodeURIComponent(text)}">${t('recovery.download')}</a>
<button type="button" class="button secondary" id="copy-codes" data-copy="${codes.join('\n')}" data-copied="${t('recovery.copied')}">${t('recovery.copy')}</button>
</p>
<script src="/static/copy.js"></script>`;
}
