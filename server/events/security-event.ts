// Security events: the one record of "something security-relevant happened".
// Code that does the thing emits one event; the sinks decide what follows
// (the audit trail stores it and prints it as a JSON line, metrics count it).
// So the audit log and the dashboards can never disagree about what happened.
//
// Schema 1. A field may be added in a later schema version; none is renamed or
// removed without bumping `schema`. No field ever holds a password, secret,
// code or token value: `reason` is a code from REASONS, `details` holds only
// ids, kinds and counts.

export const SECURITY_EVENT_TYPES = [
  'sign_in.succeeded', // a login prompt answered: every required factor proven
  'sign_in.failed', // a password or passkey refused (reason says why)
  'second_factor.passed',
  'second_factor.refused',
  'factor.added',
  'factor.removed',
  'recovery_code.used',
  'recovery_codes.regenerated',
  'password.changed',
  'trusted_device.added',
  'trusted_device.forgotten',
  'session.ended',
  'throttle.blocked',
  'token.issued',
  'token.refused',
  'refresh_token.reuse_detected',
  'grant.revoked',
  'admin.changed', // any change made with the latchkey CLI (details.command)
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/** Who did it. An admin is the OS user and host that ran the CLI. */
export type Actor =
  | { kind: 'account'; id: string }
  | { kind: 'client'; id: string }
  | { kind: 'admin'; id: string; host: string }
  | { kind: 'anonymous' };

/** How a person proved who they are; bounded, so it can be a metric label. */
export const SIGN_IN_METHODS = ['password', 'passkey', 'totp', 'webauthn', 'recovery_code', 'trusted_device'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/**
 * The reason codes, per event type: short, bounded, safe to use as a metric
 * label. token.refused's reason is the OAuth error code oidc-provider answered
 * (RFC 6749 5.2, RFC 9449...), listed here as the ones Latchkey can answer.
 */
export const REASONS = {
  'sign_in.failed': ['missing_credentials', 'unknown_account', 'bad_password', 'account_disabled', 'passkey_refused', 'throttled'],
  'second_factor.refused': ['invalid_code', 'invalid_recovery_code', 'webauthn_refused', 'throttled'],
  'throttle.blocked': ['throttled'],
  'token.refused': [
    'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
    'invalid_target', 'invalid_dpop_proof', 'use_dpop_nonce', 'access_denied', 'login_required', 'consent_required',
    'interaction_required', 'invalid_redirect_uri', 'invalid_request_object', 'unsupported_response_type', 'server_error', 'other',
  ],
  'refresh_token.reuse_detected': ['refresh_token_reuse'],
  'grant.revoked': ['signed_out', 'token_revoked', 'refresh_token_reuse', 'code_reuse', 'other'],
  'session.ended': ['signed_out'],
} as const satisfies Partial<Record<SecurityEventType, readonly string[]>>;
export type ReasonOf<T extends SecurityEventType> = T extends keyof typeof REASONS ? (typeof REASONS)[T][number] : never;

/** details.kind of factor.added / factor.removed: a synced WebAuthn credential is a passkey. */
export const FACTOR_KINDS = ['totp', 'webauthn', 'passkey', 'recovery_codes'] as const;
export type FactorKind = (typeof FACTOR_KINDS)[number];

/** Where a request came from (server/events/request-meta.ts builds it from a Koa context). */
export interface RequestMeta {
  ip?: string;
  user_agent?: string;
  request_id?: string;
}

export interface SecurityEvent {
  schema: 1;
  type: SecurityEventType;
  /** ISO 8601, UTC. */
  time: string;
  actor: Actor;
  /** What the event is about: an account id, a client id, a key id... */
  subject?: string;
  client_id?: string;
  ip?: string;
  user_agent?: string;
  request_id?: string;
  outcome: 'success' | 'failure';
  /** A short machine-readable code (bad_password, unknown_account, throttled, invalid_grant, ...). */
  reason?: string;
  method?: SignInMethod;
  /** Ids, kinds and counts only. */
  details?: Record<string, string | number | boolean>;
}

/** What the emitting code supplies; `schema` and `time` are filled in. */
export type SecurityEventInput = Omit<SecurityEvent, 'schema' | 'time'>;

export interface SecurityEventSink {
  /** Must not throw and must not block the request: a sink queues its own work. */
  record(event: SecurityEvent): void;
}

export class SecurityEvents {
  private readonly sinks: SecurityEventSink[] = [];
  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  addSink(sink: SecurityEventSink): void {
    this.sinks.push(sink);
  }

  emit(input: SecurityEventInput): SecurityEvent {
    const event: SecurityEvent = { schema: 1, ...input, time: this.now().toISOString() };
    for (const sink of this.sinks) sink.record(event);
    return event;
  }
}
