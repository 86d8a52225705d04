// The one error model (server/errors.ts): every family says its status, what
// the user reads (a key of views/strings.ts) and whether its message may be shown.
import test from 'ava';
import { ConflictError, InteractionExpiredError, LatchkeyError, NotFoundError, UserError, type MessageKey } from '../../server/errors.ts';
import { StepNotAllowedError, TransitionNotAllowedError } from '../../server/interactions/state-machine.ts';
import { MfaError } from '../../server/mfa/types.ts';
import { ThrottledError } from '../../server/throttle/types.ts';
import { t as text } from '../../views/strings.ts';

test('a LatchkeyError shows its key\'s text, not its detail, unless exposed', (t) => {
  const hidden = new LatchkeyError('error.csrf', 'token signed for another interaction');
  t.is(hidden.status, 400);
  t.false(hidden.expose);
  t.is(hidden.message, 'token signed for another interaction', 'the detail is for the logs');
  t.is(hidden.userMessage(), text('error.csrf'));

  const shown = new LatchkeyError('error.400', 'written for the user', { expose: true, status: 422 });
  t.is(shown.status, 422);
  t.is(shown.userMessage(), 'written for the user');

  t.is(new LatchkeyError('error.404').message, text('error.404'), 'without a detail the message is the key\'s text');
});

test('a server error never exposes its message, whatever the thrower asked', (t) => {
  const error = new LatchkeyError('error.generic', 'pool exhausted at db-3', { status: 503, expose: true });
  t.false(error.expose);
  t.is(error.userMessage(), text('error.generic'));
});

test('the cause is kept for the logs', (t) => {
  const cause = new Error('inner');
  t.is(new InteractionExpiredError('interaction mismatch', cause).cause, cause);
});

test('every family is a LatchkeyError with its status and key', (t) => {
  const cases: Array<[LatchkeyError, number, MessageKey, boolean]> = [
    [new UserError('--scope needs --api'), 400, 'error.400', true],
    [new NotFoundError('unknown client x'), 404, 'error.404', true],
    [new ConflictError('an account with this email already exists'), 409, 'error.400', true],
    [new MfaError('mfa.webauthn.duplicate'), 400, 'mfa.webauthn.duplicate', false],
    [new MfaError('mfa.webauthn.unknown', { status: 401, detail: 'credential of another account' }), 401, 'mfa.webauthn.unknown', false],
    [new ThrottledError(30), 429, 'error.429', false],
    [new StepNotAllowedError('the enrol step is not the current step'), 403, 'error.step_not_allowed', false],
    [new TransitionNotAllowedError('the enrol step cannot lead to done'), 500, 'error.generic', false],
    [new InteractionExpiredError('interaction mismatch'), 400, 'error.interaction_expired', false],
  ];
  for (const [error, status, key, expose] of cases) {
    t.true(error instanceof LatchkeyError, error.name);
    t.true(error instanceof Error, error.name);
    t.is(error.status, status, error.name);
    t.is(error.messageKey, key, error.name);
    t.is(error.expose, expose, error.name);
  }
});

test('CLI errors keep their one-line message (what `latchkey` prints)', (t) => {
  const error = new NotFoundError('unknown user ann@example.com');
  t.is(error.message, 'unknown user ann@example.com');
  t.is(error.userMessage(), 'unknown user ann@example.com');
  t.true(error instanceof UserError);
});

test('a refused factor reads its key\'s text; its detail stays in the logs', (t) => {
  const error = new MfaError('login.passkeyFailed', { status: 401, detail: 'account disabled or gone' });
  t.is(error.message, 'account disabled or gone');
  t.is(error.userMessage(), text('login.passkeyFailed'));
});

test('a throttled attempt carries Retry-After', (t) => {
  const error = new ThrottledError(90);
  t.is(error.retryAfterSeconds, 90);
  t.deepEqual(error.headers, { 'Retry-After': '90' });
});
