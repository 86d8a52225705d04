// Errors Latchkey raises itself (oidc-provider's own live in its `errors`).
// UserError carries a one-line message safe to show an admin or user.
export class UserError extends Error {
  override name = 'UserError';
}

export class NotFoundError extends UserError {
  override name = 'NotFoundError';
}

export class ConflictError extends UserError {
  override name = 'ConflictError';
}
