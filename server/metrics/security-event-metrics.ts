// The metrics sink of the security events (server/events/security-event.ts):
// sign-ins, second factors, factor changes, throttle blocks and refresh token
// reuse are counted from the same events the audit trail stores, so the
// dashboards and the audit log cannot disagree. Every label value comes from a
// fixed list; an unexpected one is counted as "other", never passed through.
import { FACTOR_KINDS, SIGN_IN_METHODS, type ReasonOf, type SecurityEvent, type SecurityEventSink } from '../events/security-event.ts';
import type { LimiterName } from '../throttle/limits.ts';
import type { LatchkeyMetrics } from './registry.ts';

/** The outcome label of a sign-in step. A wrong password and an unknown account are one outcome: the metrics say no more about which accounts exist than the sign-in page does. */
type SignInOutcome = 'success' | 'bad_credentials' | 'throttled' | 'second_factor_passed' | 'second_factor_refused' | 'account_disabled' | 'other_failure';

const LIMITS: readonly LimiterName[] = ['ip', 'accountIp', 'account', 'secondFactor'];

const methods = new Set<string>(SIGN_IN_METHODS);
const limits = new Set<string>(LIMITS);
const factorKinds = new Set<string>(FACTOR_KINDS);

const methodLabel = (event: SecurityEvent) => (event.method && methods.has(event.method) ? event.method : 'none');

type FailureReason = ReasonOf<'sign_in.failed'> | ReasonOf<'second_factor.refused'>;

/** The outcome label of each reason a sign-in or second factor is refused for (a new reason does not compile until it has one). */
const FAILURE_OUTCOMES: Record<FailureReason, SignInOutcome> = {
  unknown_account: 'bad_credentials',
  bad_password: 'bad_credentials',
  passkey_refused: 'bad_credentials',
  missing_credentials: 'other_failure',
  account_disabled: 'account_disabled',
  throttled: 'throttled',
  invalid_code: 'second_factor_refused',
  invalid_recovery_code: 'second_factor_refused',
  webauthn_refused: 'second_factor_refused',
};

function failureOutcome(event: SecurityEvent): SignInOutcome {
  if (event.reason !== undefined && Object.hasOwn(FAILURE_OUTCOMES, event.reason)) return FAILURE_OUTCOMES[event.reason as FailureReason];
  return event.type === 'second_factor.refused' ? 'second_factor_refused' : 'other_failure';
}

/** The outcome label of a sign-in step event, or undefined if the event is not one. */
function signInOutcome(event: SecurityEvent): SignInOutcome | undefined {
  switch (event.type) {
    case 'sign_in.succeeded':
      return 'success';
    case 'second_factor.passed':
      return 'second_factor_passed';
    case 'sign_in.failed':
    case 'second_factor.refused':
      return failureOutcome(event);
    default:
      return undefined;
  }
}

export class SecurityEventMetrics implements SecurityEventSink {
  readonly #metrics: LatchkeyMetrics;

  constructor(metrics: LatchkeyMetrics) {
    this.#metrics = metrics;
    // The credential stuffing alerts compare rates: the series must exist
    // (at 0) before the first failure, or the first burst has no baseline.
    for (const outcome of ['success', 'bad_credentials', 'throttled'] as const) metrics.signIns.labels(outcome, 'password').inc(0);
    for (const outcome of ['success', 'bad_credentials'] as const) metrics.signIns.labels(outcome, 'passkey').inc(0);
    for (const limit of LIMITS) metrics.throttleBlocks.labels(limit).inc(0);
  }

  record(event: SecurityEvent): void {
    const outcome = signInOutcome(event);
    if (outcome) {
      this.#metrics.signIns.labels(outcome, methodLabel(event)).inc();
      return;
    }
    switch (event.type) {
      case 'factor.added':
      case 'factor.removed': {
        const kind = event.details?.kind;
        const label = typeof kind === 'string' && factorKinds.has(kind) ? kind : 'other';
        this.#metrics.factorChanges.labels(label, event.type === 'factor.added' ? 'added' : 'removed').inc();
        return;
      }
      case 'throttle.blocked': {
        const limit = event.details?.limit;
        this.#metrics.throttleBlocks.labels(typeof limit === 'string' && limits.has(limit) ? limit : 'other').inc();
        return;
      }
      case 'refresh_token.reuse_detected':
        this.#metrics.refreshTokenReuse.inc();
        return;
      default:
    }
  }
}
