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

/** One line for any error: pg's AggregateError (connection refused) has an empty message. */
export function oneLine(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  const message = e?.message || e?.errors?.[0]?.message || e?.code || String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
