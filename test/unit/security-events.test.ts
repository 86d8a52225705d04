// The security events' pieces that need no server: the emitter and the
// JSON-line sink, the reason codes, what a sign-in's method and a factor's
// kind are, the throttle's block event, the CLI's admin event and --since,
// and the /account activity list (words, relative time, escaping).
import test from 'ava';
import { hostname, userInfo } from 'node:os';
import { pino } from 'pino';
import { ago, toActivity } from '../../server/account/activity.ts';
import { adminChangeEvent, commandPath, isChange } from '../../server/cli/admin-change.ts';
import { parseSince } from '../../server/cli/commands/audit-format.ts';
import type { StoredEvent } from '../../server/events/audit-store.ts';
import { factorKind } from '../../server/events/factor-kind.ts';
import { logSink } from '../../server/events/log-sink.ts';
import { requestMeta } from '../../server/events/request-meta.ts';
import { REASONS, SECURITY_EVENT_TYPES, SecurityEvents, type SecurityEvent } from '../../server/events/security-event.ts';
import { methodOf } from '../../server/interactions/finish-login.ts';
import { passkeyOnly, passwordOnly, passwordOnTrustedDevice, withSecondFactor } from '../../server/mfa/policy.ts';
import { createSignInThrottle } from '../../server/throttle/sign-in-throttle.ts';
import { ThrottledError } from '../../server/throttle/types.ts';
import { accountPage } from '../../views/account.ts';

function capture(level = 'info') {
  const lines: Record<string, any>[] = [];
  const logger = pino({ level }, { write: (line: string) => { lines.push(JSON.parse(line)); } });
  return { logger, lines };
}

test('an emitted event gets schema 1 and an ISO time, and reaches every sink', (t) => {
  const seen: SecurityEvent[][] = [[], []];
  const events = new SecurityEvents(() => new Date('2025-02-03T04:05:06.789Z'));
  events.addSink({ record: (e) => seen[0].push(e) });
  events.addSink({ record: (e) => seen[1].push(e) });
  const event = events.emit({ type: 'password.changed', outcome: 'success', actor: { kind: 'account', id: 'a' }, subject: 'a' });
  t.deepEqual(event, { schema: 1, type: 'password.changed', time: '2025-02-03T04:05:06.789Z', outcome: 'success', actor: { kind: 'account', id: 'a' }, subject: 'a' });
  t.deepEqual(seen, [[event], [event]]);
});

test('the JSON-line sink: one line per event, audit: true, the event whole under `event`, at info even when LOG_LEVEL is warn', (t) => {
  const { logger, lines } = capture('warn');
  const events = new SecurityEvents();
  events.addSink(logSink(logger));
  const event = events.emit({ type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, reason: 'bad_password', method: 'password', ip: '198.51.100.4' });
  t.is(lines.length, 1);
  t.like(lines[0], { level: 30, audit: true, msg: 'sign_in.failed' });
  t.deepEqual(lines[0].event, event);
  t.is(typeof lines[0].time, 'number', 'pino\'s own time stays its own');
  logger.info('an ordinary line');
  t.is(lines.length, 1, 'the logger itself still honours its level');
});

test('the JSON-line sink is muted only by LOG_LEVEL=silent', (t) => {
  const { logger, lines } = capture('silent');
  logSink(logger).record({ schema: 1, type: 'session.ended', time: new Date().toISOString(), actor: { kind: 'anonymous' }, outcome: 'success' });
  t.is(lines.length, 0);
});

test('reason codes are short snake_case codes, listed only for known types', (t) => {
  for (const [type, reasons] of Object.entries(REASONS)) {
    t.true((SECURITY_EVENT_TYPES as readonly string[]).includes(type), type);
    for (const reason of reasons) t.regex(reason, /^[a-z][a-z0-9_]{2,40}$/);
  }
});

test('the method that completed a sign-in, read from what it proved', (t) => {
  t.is(methodOf(passwordOnly()), 'password');
  t.is(methodOf(passwordOnTrustedDevice()), 'trusted_device');
  t.is(methodOf(passkeyOnly({ synced: true })), 'passkey');
  t.is(methodOf(withSecondFactor({ kind: 'totp' })), 'totp');
  t.is(methodOf(withSecondFactor({ kind: 'webauthn', synced: false, userVerified: true })), 'webauthn');
});

test('factor kinds: a synced WebAuthn credential is a passkey', (t) => {
  t.is(factorKind({ kind: 'totp' }), 'totp');
  t.is(factorKind({ kind: 'webauthn', synced: false }), 'webauthn');
  t.is(factorKind({ kind: 'webauthn', synced: true }), 'passkey');
});

test('request meta: ip, a capped User-Agent, no request id when none was assigned', (t) => {
  const meta = requestMeta({ ip: '203.0.113.1', req: { headers: { 'user-agent': 'x'.repeat(2000) } } as never });
  t.is(meta.ip, '203.0.113.1');
  t.is(meta.user_agent?.length, 256, 'the same cap as the access log');
  t.is(meta.request_id, undefined);
  t.deepEqual(requestMeta(undefined), { ip: undefined, user_agent: undefined, request_id: undefined });
});

test('a block starting is one throttle.blocked event naming the limit; attempts refused while blocked are not', async (t) => {
  const events = new SecurityEvents();
  const seen: SecurityEvent[] = [];
  events.addSink({ record: (e) => seen.push(e) });
  const throttle = createSignInThrottle({
    keyPrefix: 'unit:', emailHashKey: Buffer.alloc(32, 1), logger: pino({ level: 'silent' }), events,
    limits: { secondFactor: { points: 2, duration: 60, block: 30, maxBlock: 60 } },
  });
  const request = { ip: '192.0.2.7', user_agent: 'UA', request_id: 'req-12345678' };
  let refused = 0;
  for (let i = 0; i < 5; i += 1) {
    await throttle.secondFactorAttempt('account-1', '192.0.2.7', request).catch((error) => { if (error instanceof ThrottledError) refused += 1; else throw error; });
  }
  t.is(refused, 3);
  t.is(seen.length, 1);
  t.like(seen[0], { type: 'throttle.blocked', outcome: 'failure', reason: 'throttled', subject: 'account-1', ip: '192.0.2.7', request_id: 'req-12345678', details: { limit: 'secondFactor', retry_after_seconds: 30, blocks: 1 } });
});

test('a CLI change is admin.changed by the OS user and host; reads are not changes', (t) => {
  const event = adminChangeEvent('clients update', ['app'], { client_id: 'app', name: 'App' }, new Date('2025-01-01T00:00:00Z'));
  t.deepEqual(event, {
    schema: 1, type: 'admin.changed', time: '2025-01-01T00:00:00.000Z', outcome: 'success',
    actor: { kind: 'admin', id: userInfo().username, host: hostname() }, subject: 'app', client_id: 'app', details: { command: 'clients update' },
  });
  t.is(adminChangeEvent('users disable', ['a@b.c'], { id: 'uuid-1', email: 'a@b.c' }).subject, 'uuid-1', 'the id, not the email typed');
  t.true(isChange('users set-password'));
  t.true(isChange('migrate'));
  t.false(isChange('users list'));
  t.false(isChange('audit tail'));
  const program = { name: () => 'latchkey', parent: null };
  const group = { name: () => 'keys', parent: program };
  t.is(commandPath({ name: () => 'rotate', parent: group }), 'keys rotate');
});

test('--since: a duration back from now, or a time', (t) => {
  const now = new Date('2025-03-01T12:00:00Z');
  t.is(parseSince('24h', now).toISOString(), '2025-02-28T12:00:00.000Z');
  t.is(parseSince('7d', now).toISOString(), '2025-02-22T12:00:00.000Z');
  t.is(parseSince('2025-01-01T00:00:00Z', now).toISOString(), '2025-01-01T00:00:00.000Z');
  t.throws(() => parseSince('soon', now), { message: /neither a time/ });
});

const stored = (patch: Partial<StoredEvent>): StoredEvent =>
  ({ id: 1, schema: 1, type: 'sign_in.succeeded', time: '2025-03-01T10:00:00.000Z', actor: { kind: 'account', id: 'a' }, outcome: 'success', ...patch });

test('/account activity: words, the browser and IP, approximate time', (t) => {
  const now = new Date('2025-03-01T12:00:30Z');
  const item = toActivity(stored({ method: 'totp', ip: '203.0.113.5', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15' }), now);
  t.deepEqual(item, { what: 'Signed in', how: 'authenticator app', from: 'Safari on macOS, 203.0.113.5', time: '2025-03-01T10:00:00.000Z', ago: '2 hours ago', failure: false });
  t.is(toActivity(stored({ type: 'factor.removed', details: { kind: 'passkey' } }), now).how, 'passkey');
  t.is(ago(new Date('2025-03-01T12:00:00Z'), now), 'just now');
  t.is(ago(new Date('2025-03-01T11:59:00Z'), now), '1 minute ago');
  t.is(ago(new Date('2025-02-27T11:00:00Z'), now), '2 days ago');
});

test('/account activity is escaped: an IP from a proxy header cannot inject markup', (t) => {
  const page = accountPage({ productName: 'Acme ID', brandColor: '#123abc', nonce: 'bm9uY2U=' }, {
    email: 'a@b.c', csrfToken: 'tok', factors: [], recoveryLeft: 0, devices: [], signOutUrl: '/session/end',
    activity: [toActivity(stored({ ip: '<script>alert(1)</script>', user_agent: '"><img src=x>' }))],
  });
  t.false(page.includes('<script>alert(1)'));
  t.true(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.regex(page, /<ul class="items" id="activity"><li class="activity" data-outcome="success">/);
});
