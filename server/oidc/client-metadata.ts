// Latchkey's client record -> oidc-provider client metadata.
import type { ClientMetadata } from 'oidc-provider';
import type { Client } from '../clients/types.ts';
import { OIDC_SCOPES, PRIVATE_USE_SCHEME } from '../protocol/constants.ts';


export function toClientMetadata(client: Client): ClientMetadata {
  const codeFlow = client.grantTypes.includes('authorization_code');
  const metadata: ClientMetadata = {
    client_id: client.clientId,
    client_name: client.name,
    grant_types: client.grantTypes,
    response_types: codeFlow ? ['code'] : [],
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    id_token_signed_response_alg: client.idTokenAlg,
    // oidc-provider lets only native clients use private-use schemes (RFC 8252).
    application_type: [...client.redirectUris, ...client.postLogoutRedirectUris]
      .some((uri) => PRIVATE_USE_SCHEME.test(new URL(uri).protocol)) ? 'native' : 'web',
    // OIDC scopes only: API scopes are granted per API and checked in
    // server/oidc/resources.ts (oidc-provider validates this list against its static scopes).
    scope: codeFlow ? OIDC_SCOPES.join(' ') : undefined,
  };
  if (client.secretHash) {
    // oidc-provider needs a client_secret for the secret auth methods. It gets
    // the keyed hash; compareClientSecret (server/oidc/internals.ts) checks a
    // presented secret against it. Symmetric uses of client_secret
    // (client_secret_jwt, HS256, symmetric encryption) are disabled in
    // server/oidc/algorithms.ts, so the hash is never used as a key.
    metadata.client_secret = client.secretHash;
  }
  if (client.jwks) metadata.jwks = client.jwks as ClientMetadata['jwks'];
  return metadata;
}
