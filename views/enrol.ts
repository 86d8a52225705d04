// Sign-in step "enrol": MFA is required and the account has no factor yet,
// so the user adds one (authenticator app or security key) right here.
import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { otherAccountForm, securityKeyBlock, totpSetupBlock, webauthnScripts, type TotpSetupView } from './mfa-parts.ts';
import { t } from './strings.ts';

export interface EnrolParams {
  totp: TotpSetupView;
  key: { action: string; csrfToken: string; error?: string };
  webauthnOptions: unknown;
  /** Ends the sign-in ("Use another account"). */
  abort: { action: string; csrfToken: string };
}

export function enrolPage(ctx: PageContext, p: EnrolParams): string {
  const body = html`
<p class="lead">${t('enrol.lead')}</p>
<section>
<h2>${t('enrol.totpHeading')}</h2>
${totpSetupBlock(p.totp)}
</section>
<section>
<h2>${t('enrol.keyHeading')}</h2>
${securityKeyBlock(p.key)}
</section>
<p class="muted hint" id="no-device">${t('enrol.noDevice')}</p>
${otherAccountForm(p.abort.action, p.abort.csrfToken)}
${webauthnScripts(p.webauthnOptions, ctx.nonce)}`;
  return layout(ctx, t('enrol.title'), body);
}
