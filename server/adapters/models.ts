// Which oidc-provider models the stores treat specially.

/** Models whose tokens revokeByGrantId removes (as in oidc-provider's own adapters). */
export const GRANTABLE_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);
