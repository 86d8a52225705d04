import test from 'ava';
import { assertStep, currentStep, provenAccountId, StepNotAllowedError, type SignInState } from '../../server/interactions/state-machine.ts';

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
