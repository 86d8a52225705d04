// Errors the stores raise; server/oidc/ maps them to protocol errors.

/** consume() found the record consumed already: a replayed code or refresh token. */
export class AlreadyConsumedError extends Error {
  override name = 'AlreadyConsumedError';
}
