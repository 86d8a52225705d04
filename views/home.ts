// `/`: what someone who opens the issuer in a browser sees, instead of a bare
// "Not Found": the way to their account (and so to a sign-in) and, for
// developers, the discovery document.
import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { t } from './strings.ts';

export function homePage(ctx: PageContext): string {
  const body = html`
<p class="lead">${t('home.lead', { product: ctx.productName })}</p>
<ul class="permissions">
<li><a href="/account">${t('home.account')}</a></li>
<li><a href="/.well-known/openid-configuration">${t('home.discovery')}</a></li>
</ul>`;
  return layout(ctx, t('home.title'), body);
}
