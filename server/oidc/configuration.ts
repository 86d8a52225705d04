// oidc-provider configuration: the protocol defaults Latchkey enforces.
// Every choice that differs from oidc-provider's defaults is commented.
import type { AdapterFactory, ClientAuthMethod, ClientMetadata, Configuration, JWK as ProviderJWK } from 'oidc-provider';
import type { JWK } from 'jose';
import type { AccountLookup } from '../accounts/types.ts';
import type { ApiLookup } from '../apis/types.ts';
import type { ClientLookup } from '../clients/types.ts';
import type { Config } from '../config/index.ts';
import type { Adapter } from '../adapters/index.ts';
import { CLIENT_AUTH_METHODS, enabledJWA } from './algorithms.ts';
import { clientAssertionAudience } from './client-assertion-audience.ts';
import { clientBasedCors } from './client-cors.ts';
import { CLAIMS, createFindAccount } from './find-account.ts';
import { assertClaimsParameter } from './claims-parameter.ts';
import { buildInteractionPolicy } from './interaction-policy.ts';
import { ACR_VALUES } from '../mfa/policy.ts';
import { clientSettingsOf } from './account-client.ts';
import { EXTRA_CLIENT_PROPERTIES, validateLatchkeyMetadata } from './client-metadata.ts';
import { providerPages } from './pages.ts';
import { resourceIndicators } from './resources.ts';
import { createClientAdapter } from './client-adapter.ts';
import { GRANT_ID_CLAIM } from './jwt-access-tokens.ts';
import { guardStore } from './store-guards.ts';
import type { TokenPolicies } from './token-policies.ts';
import { lifetimes } from './ttl.ts';

export interface OidcDependencies {
  config: Config;
  cookieKeys: string[];
  clients: ClientLookup;
  apis: ApiLookup;
  accounts: AccountLookup;
  adapterFactory: (name: string) => Adapter;
  /** Does the account have a second factor (server/mfa)? */
  hasFactors: (accountId: string) => Promise<boolean>;
}

export const INTERACTION_PATH = '/interaction';

export function buildConfiguration(deps: OidcDependencies, jwks: JWK[], clients: ClientMetadata[], policies: TokenPolicies): Configuration {
  const { config } = deps;
  const clientAdapter = createClientAdapter(deps.clients);
  const { https } = config;
  const pages = providerPages(config);
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: https };

  return {
    // Registered clients are static clients (see provider-host.ts); the
    // Client adapter answers for ones created since this Provider was built.
    clients,
    // Latchkey's own fields of a client (APIs, first party, MFA settings,
    // previous secret hash) ride in its metadata, so the request path reads
    // them from ctx.oidc.client (client-metadata.ts latchkeyFieldsOf).
    extraClientMetadata: { properties: EXTRA_CLIENT_PROPERTIES, validator: validateLatchkeyMetadata },
    adapter: ((name: string) => (name === 'Client' ? clientAdapter : guardStore(deps.adapterFactory(name)))) as unknown as AdapterFactory,
    jwks: { keys: jwks as ProviderJWK[] },
    findAccount: createFindAccount(deps.accounts),
    claims: CLAIMS,
    // POST to /auth stays off (oidc-provider's default): enabling it requires
    // SameSite=None session cookies, a weaker CSRF posture than Lax.
    // Only the authorization code flow: no implicit or hybrid response types.
    // `none` (nothing issued) serves only the built-in account page client
    // (account-client.ts); registered clients get response_types ['code'].
    responseTypes: ['code', 'none'],
    // Discovery's acr_values_supported; the sign-in sets acr to one of them.
    acrValues: ACR_VALUES,
    // redirect_uri is always required (OpenID Connect Core 3.1.2.1), even for
    // a client with one registered URI. oidc-provider's default guesses it,
    // and its guess crashes on /auth/<uid> without cookies (a bare 500).
    allowOmittingSingleRegisteredRedirectUri: false,
    clientBasedCORS: clientBasedCors,
    assertJwtClientAuthClaimsAndHeader: clientAssertionAudience(config.issuer),
    // PKCE (S256 only in oidc-provider 9) for every client, not just public ones.
    pkce: { required: () => true },
    clientAuthMethods: CLIENT_AUTH_METHODS as ClientAuthMethod[],
    enabledJWA: enabledJWA as Configuration['enabledJWA'],
    cookies: {
      keys: deps.cookieKeys,
      long: cookie,
      short: cookie,
      // __Host- binds the session cookie to this exact origin (needs https and Path=/).
      names: https
        ? { session: '__Host-latchkey_session', interaction: '__Secure-latchkey_interaction', resume: '__Secure-latchkey_resume' }
        : { session: 'latchkey_session', interaction: 'latchkey_interaction', resume: 'latchkey_resume' },
    },
    interactions: {
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
      policy: buildInteractionPolicy(config.ttl.sessionAbsolute, {
        policy: config.mfa.policy,
        hasFactors: deps.hasFactors,
        clientSettings: clientSettingsOf,
      }),
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: policies.introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: policies.revocationAllowed },
      resourceIndicators: resourceIndicators(deps.apis),
      rpInitiatedLogout: { enabled: true, logoutSource: pages.logoutSource, postLogoutSuccessSource: pages.postLogoutSuccessSource },
      // The claims parameter (OIDC Core 5.5): single claims beyond the scopes
      // (the user consents to them like to scopes), and acr requests; one for
      // urn:latchkey:acr:mfa is a step-up like acr_values (interaction-policy.ts).
      claimsParameter: { enabled: true, assertClaimsParameter },
      // DPoP stays on (oidc-provider's default): sender-constrained tokens for clients that want them.
      dPoP: { enabled: true },
    },
    renderError: pages.renderError,
    // A user's JWT access token names its grant, so introspection can tell
    // when the grant was revoked (oidc-provider stores no JWT access tokens).
    extraTokenClaims: async (_ctx, token) =>
      token.kind === 'AccessToken' && token.grantId && token.resourceServer?.accessTokenFormat === 'jwt'
        ? { [GRANT_ID_CLAIM]: token.grantId }
        : undefined,
    // Refresh tokens rotate on every use; replaying a used one revokes the grant.
    rotateRefreshToken: true,
    // Clients registered for refresh_token get one in the code flow. Without
    // offline_access the refresh token ends with the sign-in session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: lifetimes(config.ttl) as Configuration['ttl'],
    // Discovery advertises what Latchkey supports and nothing it does not.
    discovery: { service_documentation: undefined },
    conformIdTokenClaims: true,
  };
}
