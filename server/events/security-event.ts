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
