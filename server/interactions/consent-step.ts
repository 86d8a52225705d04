// Step "consent": the user grants what the client asks for. First-party
// clients (registered with --first-party) are granted without asking.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { consentPage } from '../../views/consent.ts';
import { csrfToken } from '../http/csrf.ts';
import { finishStep, pageContext, type InteractionDependencies } from './context.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

interface MissingDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export function renderConsentStep(deps: InteractionDependencies, ctx: Koa.Context, details: Details, clientName: string) {
  const missing = details.prompt.details as MissingDetails;
  ctx.type = 'html';
  ctx.body = consentPage(pageContext(deps.config, ctx), {
    action: `/interaction/${details.uid}/consent`,
    abortAction: `/interaction/${details.uid}/abort`,
    csrfToken: csrfToken(deps.csrfKey, details.uid),
    clientName,
    scopes: missing.missingOIDCScope ?? [],
    claims: missing.missingOIDCClaims,
    resources: Object.entries(missing.missingResourceScopes ?? {}).map(([identifier, scopes]) => ({ identifier, scopes })),
  });
}

/** Records the grant for everything the pending request is missing, then resumes. */
export async function grantConsent(deps: InteractionDependencies, ctx: Koa.Context, details: Details) {
  const { Grant } = deps.provider();
  const missing = details.prompt.details as MissingDetails;
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  const grant = (details.grantId ? await Grant.find(details.grantId) : undefined) ?? new Grant({ accountId, clientId });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await finishStep(deps, ctx, { consent: { grantId } });
}
