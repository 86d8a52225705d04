// Which JOSE algorithms and client authentication methods are on. No HS* and
// no client_secret_jwt: client secrets are stored as hashes, so there is no
// shared key to MAC with.
import { SIGNING_ALGS } from '../protocol/constants.ts';

/** What Latchkey signs with, as oidc-provider's configuration wants it (a mutable list). */
export const SIGNING_ALG_VALUES: string[] = [...SIGNING_ALGS];

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

export const enabledJWA = {
  clientAuthSigningAlgValues: ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'Ed25519', 'EdDSA'],
  idTokenSigningAlgValues: SIGNING_ALG_VALUES,
  userinfoSigningAlgValues: SIGNING_ALG_VALUES,
  introspectionSigningAlgValues: SIGNING_ALG_VALUES,
  authorizationSigningAlgValues: SIGNING_ALG_VALUES,
  requestObjectSigningAlgValues: ['ES256', 'RS256', 'PS256'],
  dPoPSigningAlgValues: ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'],
};
