import test from 'ava';
import { assertStep, currentStep, StepNotAllowedError } from '../../server/interactions/state-machine.ts';

test('each oidc-provider prompt maps to exactly one step', (t) => {
  t.is(currentStep('login'), 'password');
  t.is(currentStep('consent'), 'consent');
  t.throws(() => currentStep('select_account'), { instanceOf: StepNotAllowedError });
});

test('a POST for another step than the current one is refused', (t) => {
  t.notThrows(() => assertStep('login', 'password'));
  t.notThrows(() => assertStep('consent', 'consent'));
  t.throws(() => assertStep('login', 'consent'), { instanceOf: StepNotAllowedError });
  t.throws(() => assertStep('consent', 'password'), { instanceOf: StepNotAllowedError });
});
