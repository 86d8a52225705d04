import test from 'ava';
import { passwordOnly } from '../../server/mfa/policy.ts';
import { advance, finish, granted, retry, targetOf, throttled } from '../../server/interactions/outcome.ts';
import { applyOutcome } from '../../server/interactions/routes.ts';
import {
  assertStep, assertTransition, currentStep, provenAccountId, StepNotAllowedError, TRANSITIONS, TransitionNotAllowedError,
  type SignInState, type Step, type Target,
} from '../../server/interactions/state-machine.ts';

const login = (extra: Partial<SignInState> = {}): SignInState => ({ promptName: 'login', reasons: ['no_session'], ...extra });
const account = (hasFactors: boolean, mfaMandatory = false) => ({ hasFactors, mfaMandatory });

test('each oidc-provider prompt maps to a step; others are refused', (t) => {
  t.is(currentStep(login()), 'password');
  t.is(currentStep({ promptName: 'consent', reasons: ['op_scopes_missing'] }), 'consent');
  t.throws(() => currentStep({ promptName: 'select_account', reasons: [] }), { instanceOf: StepNotAllowedError });
});

test('after the password: second factor when the account has one, enrolment when MFA is mandatory', (t) => {
  t.is(currentStep(login({ progress: { accountId: 'a' }, account: account(true) })), 'second-factor');
  t.is(currentStep(login({ progress: { accountId: 'a' }, account: account(false, true) })), 'enrol');
  t.is(currentStep(login({ progress: { accountId: 'a' }, account: account(false, false) })), 'password');
  t.is(currentStep(login({ progress: { accountId: 'a', result: {} }, account: account(true) })), 'notice');
});

test('no password proven: the password step, whatever the session says', (t) => {
  // A signed-in session asked to sign in again (prompt=login) proves nothing.
  t.is(currentStep(login({ reasons: ['login_prompt'], sessionAccountId: 'a', account: account(true) })), 'password');
  t.is(currentStep(login({ reasons: ['second_factor_needed', 'login_prompt'], sessionAccountId: 'a', account: account(true) })), 'password');
  t.is(provenAccountId(login({ reasons: [], sessionAccountId: 'a', account: account(true) })), undefined);
});

test('step-up: a session short of a second factor goes straight to it (or to enrolment)', (t) => {
  const stepUp = login({ reasons: ['second_factor_needed'], sessionAccountId: 'a', account: account(true) });
  t.is(provenAccountId(stepUp), 'a');
  t.is(currentStep(stepUp), 'second-factor');
  t.is(currentStep(login({ reasons: ['second_factor_needed'], sessionAccountId: 'a', account: account(false, true) })), 'enrol');
});

test('max_age: a second factor re-authenticates when there is one, else the password', (t) => {
  t.is(currentStep(login({ reasons: ['max_age'], sessionAccountId: 'a', account: account(true) })), 'second-factor');
  t.is(currentStep(login({ reasons: ['max_age'], sessionAccountId: 'a', account: account(false) })), 'password');
  t.is(currentStep(login({ reasons: ['max_age', 'second_factor_needed'], sessionAccountId: 'a', account: account(false, true) })), 'password');
});

test('a POST for another step than the current one is refused', (t) => {
  t.notThrows(() => assertStep(login(), 'password'));
  t.throws(() => assertStep(login(), 'second-factor'), { instanceOf: StepNotAllowedError });
  t.throws(() => assertStep(login(), 'consent'), { instanceOf: StepNotAllowedError });
  t.throws(() => assertStep(login({ progress: { accountId: 'a' }, account: account(true) }), 'password'), { instanceOf: StepNotAllowedError });
  t.throws(() => assertStep({ promptName: 'consent', reasons: [] }, 'password'), { instanceOf: StepNotAllowedError });
});

test('an essential acr is a step-up only when it asks for MFA (else the password again)', (t) => {
  const essential = (requestedMfa: boolean) => login({ reasons: ['essential_acr', 'second_factor_needed'], sessionAccountId: 'a', account: account(true), requestedMfa });
  t.is(currentStep(essential(true)), 'second-factor');
  t.is(currentStep(essential(false)), 'password');
  t.is(currentStep(login({ reasons: ['second_factor_needed'], sessionAccountId: 'a', account: account(false, true), requestedMfa: true })), 'enrol');
});

// The transition table, row by row: a change to it must change this test too.
const TABLE: Record<Step, Target[]> = {
  password: ['password', 'second-factor', 'enrol', 'done'],
  'second-factor': ['second-factor', 'notice', 'done'],
  enrol: ['enrol', 'notice'],
  notice: ['done'],
  consent: ['done'],
};
const TARGETS: Target[] = ['password', 'second-factor', 'enrol', 'notice', 'consent', 'done'];

test('the transition table is exactly the documented one', (t) => {
  t.deepEqual(TRANSITIONS, TABLE);
});

for (const [from, allowed] of Object.entries(TABLE) as [Step, Target[]][]) {
  test(`transitions from ${from}: ${allowed.join(', ')}; nothing else`, (t) => {
    for (const to of TARGETS) {
      if (allowed.includes(to)) t.notThrows(() => assertTransition(from, to), `${from} -> ${to}`);
      else t.throws(() => assertTransition(from, to), { instanceOf: TransitionNotAllowedError }, `${from} -> ${to}`);
    }
  });
}

test('an outcome leads where its kind says: retry and throttled stay, finish and granted end the prompt', (t) => {
  const progress = { accountId: 'a', amr: ['pwd'], provenAt: 1 };
  t.is(targetOf('second-factor', retry(401, {})), 'second-factor');
  t.is(targetOf('password', throttled(60, (message) => ({ message }))), 'password');
  t.is(targetOf('second-factor', finish('a', passwordOnly())), 'done');
  t.is(targetOf('consent', granted('g')), 'done');
  t.is(targetOf('password', advance('enrol', progress)), 'enrol');
});

test('where a password or enrolment advances to, the state machine agrees on the next request', (t) => {
  const proven = { progress: { accountId: 'a' } };
  t.is(currentStep(login({ ...proven, account: account(true) })), 'second-factor');
  t.is(currentStep(login({ ...proven, account: account(false, true) })), 'enrol');
  t.is(currentStep(login({ progress: { accountId: 'a', result: {} }, account: account(true) })), 'notice');
});

// Nothing of deps or ctx may be touched before the table is checked.
const untouchable = new Proxy({}, { get: (_, key) => { throw new Error(`touched ${String(key)}`); } });

test('the applier refuses a disallowed outcome before doing anything (enrol cannot finish without the recovery codes)', async (t) => {
  const flow = { step: 'enrol', uid: 'u' } as unknown as Parameters<typeof applyOutcome>[2];
  await t.throwsAsync(applyOutcome(untouchable as never, untouchable as never, flow, finish('a', passwordOnly())), { instanceOf: TransitionNotAllowedError });
  const notice = { step: 'notice', uid: 'u' } as unknown as Parameters<typeof applyOutcome>[2];
  await t.throwsAsync(applyOutcome(untouchable as never, untouchable as never, notice, advance('second-factor', { accountId: 'a', amr: ['pwd'] })), { instanceOf: TransitionNotAllowedError });
  const password = { step: 'password', uid: 'u' } as unknown as Parameters<typeof applyOutcome>[2];
  await t.throwsAsync(applyOutcome(untouchable as never, untouchable as never, password, advance('notice', { accountId: 'a', amr: ['pwd'] })), { instanceOf: TransitionNotAllowedError });
});
