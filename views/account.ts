// The account page: factors, recovery codes, remembered devices, password.
import type { ActivityItem } from '../server/account/activity.ts';
import type { Factor, TrustedDevice } from '../server/mfa/types.ts';
import { html, type SafeHtml } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { csrfField, errorAlert, securityKeyBlock, totpSetupBlock, webauthnScripts, type TotpSetupView } from './mfa-parts.ts';
import { t, tn } from './strings.ts';

const day = (date: Date) => date.toISOString().slice(0, 10);

export interface AccountParams {
  email: string;
  csrfToken: string;
  factors: Factor[];
  recoveryLeft: number;
  devices: TrustedDevice[];
  /** Recent security activity, newest first. */
  activity: ActivityItem[];
  message?: string;
  error?: string;
  signOutUrl: string;
}

const postButton = (action: string, csrf: string, label: string, id?: string): SafeHtml =>
  html`<form method="post" action="${action}" class="inline"${id ? html` id="${id}"` : ''}>${csrfField(csrf)}<button type="submit" class="button secondary small">${label}</button></form>`;

const sameWords = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

function factorItem(f: Factor, csrf: string): SafeHtml {
  const kind = f.kind === 'totp' ? t('account.kind.totp') : f.synced ? t('account.kind.synced') : t('account.kind.webauthn');
  // A default name ("Authenticator app", "Security key") already says the kind: not twice.
  const defaultName = f.kind === 'totp' ? t('enrol.totpDefaultName') : f.synced ? undefined : t('enrol.keyDefaultName');
  const saysKind = sameWords(f.name, kind) || (defaultName !== undefined && sameWords(f.name, defaultName));
  const used = f.lastUsedAt ? t('account.lastUsed', { date: day(f.lastUsedAt) }) : t('account.neverUsed');
  return html`<li class="factor" data-kind="${f.kind}"><span><strong class="factor-name">${f.name}</strong><br><small>${saysKind ? '' : html`${kind} · `}${t('account.added', { date: day(f.createdAt) })}, ${used}</small></span>
${postButton(`/account/factors/${f.id}/remove`, csrf, t('account.remove'))}</li>`;
}

function deviceItem(d: TrustedDevice, csrf: string): SafeHtml {
  const used = d.lastUsedAt ? t('account.lastUsed', { date: day(d.lastUsedAt) }) : t('account.neverUsed');
  return html`<li class="device"><span><strong>${d.label}</strong><br><small>${t('account.added', { date: day(d.createdAt) })}, ${used}, ${t('account.deviceUntil', { date: day(d.expiresAt) })}</small></span>
${postButton(`/account/devices/${d.id}/forget`, csrf, t('account.forget'))}</li>`;
}

function activityItem(a: ActivityItem): SafeHtml {
  return html`<li class="activity" data-outcome="${a.failure ? 'failure' : 'success'}"><span><strong>${a.what}</strong>${a.how ? html` · ${a.how}` : ''}<br><small><time datetime="${a.time}" title="${a.time}">${a.ago}</time> · ${a.from}</small></span></li>`;
}

export function accountPage(ctx: PageContext, p: AccountParams): string {
  const body = html`
<p class="lead">${t('account.signedInAs', { email: p.email })}</p>
${p.message && html`<p class="notice" role="status">${p.message}</p>`}
${errorAlert(p.error)}
<section id="factors-section">
<h2>${t('account.factors')}</h2>
${p.factors.length ? html`<ul class="items" id="factors">${p.factors.map((f) => factorItem(f, p.csrfToken))}</ul>` : html`<p id="factors">${t('account.noFactors')}</p>`}
<p class="actions"><a class="button secondary" id="add-totp" href="/account/totp">${t('account.addTotp')}</a>
<a class="button secondary" id="add-key" href="/account/security-keys">${t('account.addKey')}</a></p>
<p><small>${t('account.reauthNote')}</small></p>
</section>
<section id="recovery">
<h2>${t('account.recovery')}</h2>
${p.factors.length
    ? html`<p id="recovery-left">${tn('account.recoveryLeft', p.recoveryLeft)}</p>${postButton('/account/recovery-codes', p.csrfToken, t('account.regenerate'), 'regenerate-codes')}`
    : html`<p>${t('account.recoveryNone')}</p>`}
</section>
<section id="devices-section">
<h2>${t('account.devices')}</h2>
${p.devices.length ? html`<ul class="items" id="devices">${p.devices.map((d) => deviceItem(d, p.csrfToken))}</ul>` : html`<p id="devices">${t('account.noDevices')}</p>`}
</section>
<section id="activity-section">
<h2>${t('account.activity')}</h2>
${p.activity.length ? html`<ul class="items" id="activity">${p.activity.map(activityItem)}</ul>` : html`<p id="activity">${t('account.noActivity')}</p>`}
</section>
<section>
<h2>${t('account.password')}</h2>
<form method="post" action="/account/password" id="password-form">
${csrfField(p.csrfToken)}
<input type="email" name="email" autocomplete="username" value="${p.email}" hidden>
<div class="field">
<label for="new-password">${t('account.newPassword')}</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" minlength="8" required>
</div>
<button type="submit" class="button secondary">${t('account.changePassword')}</button>
</form>
</section>
<p><a href="${p.signOutUrl}">${t('account.signOut')}</a></p>`;
  return layout(ctx, t('account.title'), body);
}

export function accountTotpPage(ctx: PageContext, setup: TotpSetupView): string {
  return layout(ctx, t('account.totpTitle'), html`${totpSetupBlock(setup)}<p><a href="/account">${t('account.back')}</a></p>`);
}

export function accountKeyPage(ctx: PageContext, p: { csrfToken: string; options: unknown; error?: string }): string {
  return layout(ctx, t('account.keyTitle'), html`${securityKeyBlock({ action: '/account/security-keys', csrfToken: p.csrfToken, error: p.error })}
<p><a href="/account">${t('account.back')}</a></p>${webauthnScripts(p.options, ctx.nonce)}`);
}

export function passwordChangedPage(ctx: PageContext): string {
  return layout(ctx, t('account.password'), html`<p class="lead" role="status">${t('account.passwordChanged')}</p>
<p><a class="button primary" href="/account">${t('login.submit')}</a></p>`);
}
