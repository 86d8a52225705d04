// Which factor a second-factor POST offers: the filled field decides, since
// Enter in either text field submits with the form's first button (method=totp).
import test from 'ava';
import { offeredFactor } from '../../server/interactions/second-factor-step.ts';

test('the one filled field decides, whatever the button says', (t) => {
  t.is(offeredFactor({ method: 'totp', code: '123456', recovery_code: '' }), 'totp');
  t.is(offeredFactor({ method: 'totp', code: '', recovery_code: 'abcd-efgh' }), 'recovery', 'Enter in the recovery field');
  t.is(offeredFactor({ method: 'recovery', code: '123456', recovery_code: ' ' }), 'totp');
  t.is(offeredFactor({ recovery_code: 'abcd-efgh' }), 'recovery', 'no button at all');
});

test('both filled: the recovery button is unambiguous, "Verify" (or Enter) is asked back', (t) => {
  t.is(offeredFactor({ method: 'recovery', code: '123456', recovery_code: 'abcd' }), 'recovery');
  t.is(offeredFactor({ method: 'totp', code: '123456', recovery_code: 'abcd' }), 'both');
  t.is(offeredFactor({ code: '123456', recovery_code: 'abcd' }), 'both');
});

test('nothing filled: the button decides (a refusal of that factor); a WebAuthn assertion always wins', (t) => {
  t.is(offeredFactor({ method: 'totp' }), 'totp');
  t.is(offeredFactor({ method: 'recovery' }), 'recovery');
  t.is(offeredFactor({}), 'totp');
  t.is(offeredFactor({ method: 'webauthn', webauthn_response: '{}', code: '123456' }), 'webauthn');
});
