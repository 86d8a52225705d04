import { html, type SafeHtml } from './html.ts';
import { layout, type PageContext } from './layout.ts';
import { hasString, t } from './strings.ts';

export interface ConsentParams {
  action: string;
  abortAction: string;
  csrfToken: string;
  clientName: string;
  scopes: string[];
  claims?: string[];
  resources?: { identifier: string; scopes: string[] }[];
  accountEmail?: string;
}

function describeScope(scope: string): string {
  const key = `scope.${scope}`;
  return hasString(key) ? t(key) : t('scope.other', { scope });
}

function describeClaim(claim: string): string {
  const key = `claim.${claim}`;
  return hasString(key) ? t(key) : t('claim.other', { claim });
}

const list = (items: string[]): SafeHtml => html`<ul class="permissions">${items.map((item) => html`<li>${item}</li>`)}</ul>`;

export function consentPage(ctx: PageContext, p: ConsentParams): string {
  const lead = p.accountEmail
    ? t('consent.leadAs', { client: p.clientName, account: p.accountEmail })
    : t('consent.lead', { client: p.clientName });
  const resources = (p.resources ?? []).filter((r) => r.scopes.length);
  const body = html`
<p class="lead">${lead}</p>
${p.scopes.length > 0 && html`<h2>${t('consent.scopesHeading')}</h2>${list(p.scopes.map(describeScope))}`}
${p.claims?.length ? html`<h2>${t('consent.claimsHeading')}</h2>${list(p.claims.map(describeClaim))}` : ''}
${resources.map((r) => html`<h2>${t('consent.resourceHeading', { resource: r.identifier })}</h2>${list(r.scopes.map(describeScope))}`)}
<div class="actions">
<form method="post" action="${p.action}">
<input type="hidden" name="csrf" value="${p.csrfToken}">
<button type="submit" class="button primary">${t('consent.allow')}</button>
</form>
<form method="post" action="${p.abortAction}">
<input type="hidden" name="csrf" value="${p.csrfToken}">
<button type="submit" class="button secondary">${t('consent.deny')}</button>
</form>
</div>`;
  return layout(ctx, t('consent.title', { client: p.clientName }), body);
}
