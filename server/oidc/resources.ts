// Resource indicators (RFC 8707): registered APIs are the only audiences;
// a client gets the scopes it was granted on an API, and JWT access tokens
// (RFC 9068) that live as long as the API's TTL.
import { errors } from 'oidc-provider';
import type { Client, KoaContextWithOIDC } from 'oidc-provider';
import type { ApiLookup } from '../apis/types.ts';
import { DEFAULT_SIGNING_ALG } from '../protocol/constants.ts';
import { latchkeyFieldsOf } from './client-metadata.ts';

const isClientCredentials = (ctx: KoaContextWithOIDC) => ctx.oidc.params?.grant_type === 'client_credentials';

export function resourceIndicators(apis: ApiLookup) {
  return {
    enabled: true,
    // A machine client with exactly one API gets it without asking; one with
    // several must name it. User flows get an opaque userinfo token unless
    // they name a resource.
    async defaultResource(ctx: KoaContextWithOIDC, client: Client, oneOf?: readonly string[]) {
      if (oneOf) return oneOf;
      if (!isClientCredentials(ctx)) return undefined;
      const granted = latchkeyFieldsOf(client).apis;
      if (granted.length === 1) return granted[0].apiIdentifier;
      throw new errors.InvalidTarget(granted.length
        ? 'this client may obtain tokens for several APIs: name one with the resource parameter'
        : 'this client may not obtain tokens for any API');
    },
    // The token endpoint reuses the resource named at /auth.
    useGrantedResource: async () => true,
    async getResourceServerInfo(ctx: KoaContextWithOIDC, resourceIndicator: string, client: Client) {
      const api = await apis.findByIdentifier(resourceIndicator);
      if (!api) throw new errors.InvalidTarget('unknown resource');
      const allowed = latchkeyFieldsOf(client).apis.find((grant) => grant.apiIdentifier === api.identifier);
      if (!allowed) throw new errors.InvalidTarget('this client may not obtain tokens for this resource');
      // oidc-provider would silently drop scopes the API does not grant this
      // client; a machine asking for more than it was granted gets invalid_scope.
      if (isClientCredentials(ctx)) {
        const requested = String(ctx.oidc.params?.scope ?? '').split(' ').filter(Boolean);
        const refused = requested.find((scope) => !allowed.scopes.includes(scope));
        if (refused) throw new errors.InvalidScope('requested scope is not allowed', refused);
      }
      return {
        scope: allowed.scopes.join(' '),
        audience: api.identifier,
        accessTokenTTL: api.accessTokenTtl,
        accessTokenFormat: 'jwt' as const,
        jwt: { sign: { alg: DEFAULT_SIGNING_ALG } },
      };
    },
  };
}
