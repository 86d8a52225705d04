// Step "consent": the user grants what the client asks for. First-party
// clients (registered with --first-party) are granted without asking.
import type Koa from 'koa';
import { consentPage } from '../../views/consent.ts';
import { csrfToken } from '../http/csrf.ts';
import { pageContext } from '../http/page-context.ts';
import type { InteractionDependencies, InteractionDetails } from './context.ts';
import type { FlowAt } from './flow.ts';
import { granted, type Outcome, type StepModule } from './outcome.ts';

interface MissingDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

type ConsentFlow = FlowAt<'consent'>;

async function renderConsentStep(deps: InteractionDependencies, ctx: Koa.Context, flow: ConsentFlow): Promise<Outcome<never> | void> {
  const { details } = flow;
  if (flow.client.firstParty) return grantConsent(deps, details);
  const missing = details.prompt.details as MissingDetails;
  // Say which account is consenting: a shared computer may be signed in as someone else.
  const account = details.session?.accountId ? await deps.accounts.findById(details.session.accountId) : undefined;
  ctx.type = 'html';
  ctx.body = consentPage(pageContext(deps.config, ctx), {
    action: `/interaction/${details.uid}/consent`,
    abortAction: `/interaction/${details.uid}/abort`,
    csrfToken: csrfToken(deps.csrfKey, details.uid),
    clientName: flow.client.name,
    scopes: missing.missingOIDCScope ?? [],
    claims: missing.missingOIDCClaims,
    resources: Object.entries(missing.missingResourceScopes ?? {}).map(([identifier, scopes]) => ({ identifier, scopes })),
    accountEmail: account?.email,
  });
}

/** Records the grant for everything the pending request is missing. */
async function grantConsent(deps: InteractionDependencies, details: InteractionDetails): Promise<Outcome<never>> {
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
  return granted(await grant.save());
}

export const consentStep: StepModule<'consent'> = {
  show: renderConsentStep,
  actions: { consent: async (deps, ctx, flow) => grantConsent(deps, flow.details) },
};
