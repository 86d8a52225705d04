// Errors Latchkey raises itself (oidc-provider's own live in its `errors`).
// Every family extends LatchkeyError, which says what an HTTP answer needs:
// its status, what the user reads (a key of views/strings.ts, so a missing
// string does not compile) and whether the error's own message may be shown.
// server/http/error-pages.ts maps them to a page or JSON in one place.
import { t, type StringKey } from '../views/strings.ts';

/** A key of views/strings.ts: what a page or JSON answer says about an error. */
export type MessageKey = StringKey;

export interface LatchkeyErrorOptions {
  /** HTTP status of the answer (default 400). */
  status?: number;
  /**
   * Whether `message` was written for the user and may be shown instead of
   * the key's text (default false: the message is a detail for the logs).
   */
  expose?: boolean;
  /** Headers the answer carries (Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class LatchkeyError extends Error {
  override name = 'LatchkeyError';
  readonly status: number;
  readonly messageKey: MessageKey;
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  /** `message` defaults to the key's text; give a detail for the logs when there is one. */
  constructor(messageKey: MessageKey, message?: string, options: LatchkeyErrorOptions = {}) {
    super(message ?? t(messageKey), options.cause === undefined ? undefined : { cause: options.cause });
    this.messageKey = messageKey;
    this.status = options.status ?? 400;
    // A server error never shows its message, whatever the caller said.
    this.expose = this.status < 500 && (options.expose ?? false);
    this.headers = options.headers ?? {};
  }

  /** What the user reads: the message when it was written for them, else the key's text. */
  userMessage(): string {
    return this.expose ? this.message : t(this.messageKey);
  }
}

/** A refused admin or user input (CLI, password policy): the one-line message says what to change. */
export class UserError extends LatchkeyError {
  override name = 'UserError';
  constructor(message: string, status = 400, messageKey: MessageKey = 'error.400') {
    super(messageKey, message, { status, expose: true });
  }
}

export class NotFoundError extends UserError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 404, 'error.404');
  }
}

export class ConflictError extends UserError {
  override name = 'ConflictError';
  constructor(message: string) {
    super(message, 409);
  }
}

/** The sign-in page in the URL is gone (expired, finished, or another browser's). */
export class InteractionExpiredError extends LatchkeyError {
  override name = 'InteractionExpiredError';
  constructor(detail: string, cause?: unknown) {
    super('error.interaction_expired', detail, { status: 400, cause });
  }
}

/**
 * A store (Postgres, Redis) is down, hung or failing over: a 503 the caller
 * may retry, never a 500. `statusCode` is what oidc-provider's own error
 * handler reads, so its endpoints answer 503 too.
 */
export class StoreUnavailableError extends LatchkeyError {
  override name = 'StoreUnavailableError';
  readonly store: string;
  constructor(store: string, cause: unknown) {
    super('error.503', `${store} unavailable: ${oneLine(cause)}`, { status: 503, cause, headers: { 'Retry-After': '5' } });
    this.store = store;
  }

  get statusCode(): number {
    return this.status;
  }
}

/** One line for any error: pg's AggregateError (connection refused) has an empty message. */
export function oneLine(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  const message = e?.message || e?.errors?.[0]?.message || e?.code || String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
