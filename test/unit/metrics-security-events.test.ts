// The metrics sink counts security events emitted through a SecurityEvents
// emitter: sign-in steps by outcome and method, factor changes, throttle
// blocks by limit, refresh token reuse; label values outside the fixed sets
// become "other"/"none", never the raw value.
import test from 'ava';
import { SecurityEvents, type SecurityEventInput } from '../../server/events/security-event.ts';
import { LatchkeyMetrics } from '../../server/metrics/registry.ts';
import { SecurityEventMetrics } from '../../server/metrics/security-event-metrics.ts';

function setup() {
  const metrics = new LatchkeyMetrics({ defaults: false });
  const events = new SecurityEvents();
  events.addSink(new SecurityEventMetrics(metrics));
  const emit = (input: Partial<SecurityEventInput> & Pick<SecurityEventInput, 'type'>) =>
    events.emit({ actor: { kind: 'anonymous' }, outcome: 'success', ...input });
  /** Non-zero series of one metric, as "label=value,... -> count". */
  const counted = async (name: string) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name)!;
    const values = (metric as unknown as { values: { labels: Record<string, string>; value: number }[] }).values;
    return Object.fromEntries(values.filter((v) => v.value !== 0).map((v) => [Object.entries(v.labels).map(([k, l]) => `${k}=${l}`).join(','), v.value]));
  };
  return { metrics, emit, counted };
}

test('sign-in steps are counted by outcome and method; a wrong password and an unknown account are one outcome', async (t) => {
  const { emit, counted } = setup();
  emit({ type: 'sign_in.succeeded', method: 'password' });
  emit({ type: 'sign_in.succeeded', method: 'passkey' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'bad_password', method: 'password' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'unknown_account', method: 'password' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'throttled', method: 'password' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'account_disabled', method: 'password' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'something_new', method: 'passkey' });
  emit({ type: 'second_factor.passed', method: 'totp' });
  emit({ type: 'second_factor.passed', method: 'trusted_device' });
  emit({ type: 'second_factor.refused', outcome: 'failure', reason: 'bad_code', method: 'totp' });
  emit({ type: 'second_factor.refused', outcome: 'failure', reason: 'bad_code', method: 'recovery_code' });
  emit({ type: 'second_factor.refused', outcome: 'failure', reason: 'throttled', method: 'webauthn' });
  t.deepEqual(await counted('latchkey_sign_ins_total'), {
    'outcome=success,method=password': 1,
    'outcome=success,method=passkey': 1,
    'outcome=bad_credentials,method=password': 2,
    'outcome=throttled,method=password': 1,
    'outcome=account_disabled,method=password': 1,
    'outcome=other_failure,method=passkey': 1,
    'outcome=second_factor_passed,method=totp': 1,
    'outcome=second_factor_passed,method=trusted_device': 1,
    'outcome=second_factor_refused,method=totp': 1,
    'outcome=second_factor_refused,method=recovery_code': 1,
    'outcome=throttled,method=webauthn': 1,
  });
});

test('a method outside SIGN_IN_METHODS is counted as none, never passed through', async (t) => {
  const { emit, counted } = setup();
  emit({ type: 'sign_in.succeeded' });
  emit({ type: 'sign_in.succeeded', method: '<script>' as never });
  t.deepEqual(await counted('latchkey_sign_ins_total'), { 'outcome=success,method=none': 2 });
});

test('factor changes by kind and change; throttle blocks by limit; refresh token reuse', async (t) => {
  const { emit, counted } = setup();
  emit({ type: 'factor.added', details: { kind: 'totp' } });
  emit({ type: 'factor.added', details: { kind: 'webauthn' } });
  emit({ type: 'factor.removed', details: { kind: 'totp' } });
  emit({ type: 'factor.removed', details: { kind: 'a-factor-id-1234' } });
  emit({ type: 'throttle.blocked', outcome: 'failure', details: { limit: 'ip' } });
  emit({ type: 'throttle.blocked', outcome: 'failure', details: { limit: 'accountIp' } });
  emit({ type: 'throttle.blocked', outcome: 'failure', details: { limit: '203.0.113.9' } });
  emit({ type: 'refresh_token.reuse_detected', outcome: 'failure' });
  emit({ type: 'refresh_token.reuse_detected', outcome: 'failure' });
  t.deepEqual(await counted('latchkey_factor_changes_total'), {
    'kind=totp,change=added': 1,
    'kind=webauthn,change=added': 1,
    'kind=totp,change=removed': 1,
    'kind=other,change=removed': 1,
  });
  t.deepEqual(await counted('latchkey_throttle_blocks_total'), { 'limit=ip': 1, 'limit=accountIp': 1, 'limit=other': 1 });
  t.deepEqual(await counted('latchkey_refresh_token_reuse_total'), { '': 2 });
});

test('events that are not sign-in steps, factor changes, blocks or reuse count nothing', async (t) => {
  const { metrics, emit } = setup();
  const before = await metrics.exposition();
  for (const type of ['token.issued', 'token.refused', 'password.changed', 'session.ended', 'grant.revoked', 'admin.changed', 'recovery_code.used'] as const) {
    emit({ type });
  }
  t.is(await metrics.exposition(), before);
});

test('the series the alerts compare exist at 0 before the first event', async (t) => {
  const { metrics } = setup();
  const text = await metrics.exposition();
  t.regex(text, /^latchkey_sign_ins_total\{outcome="bad_credentials",method="password"\} 0$/m);
  t.regex(text, /^latchkey_throttle_blocks_total\{limit="ip"\} 0$/m);
  t.regex(text, /^latchkey_refresh_token_reuse_total 0$/m);
});

test('a passkey that does not verify is bad_credentials; a disabled account behind a right passkey is account_disabled', async (t) => {
  const { emit, counted } = setup();
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'passkey_refused', method: 'passkey' });
  emit({ type: 'sign_in.failed', outcome: 'failure', reason: 'account_disabled', method: 'passkey' });
  t.deepEqual(await counted('latchkey_sign_ins_total'), {
    'outcome=bad_credentials,method=passkey': 1,
    'outcome=account_disabled,method=passkey': 1,
  });
});
