import test from 'ava';
import {
  ACR_MFA, ACR_PASSWORD, acrRequestProblem, mfaMandatory, passkeyOnly, passwordOnly, passwordOnTrustedDevice, provedPossession,
  requestsMfa, satisfiesMfa, secondFactorRequired, withSecondFactor,
} from '../../server/mfa/policy.ts';

const inputs = (o: { policy?: 'optional' | 'required'; user?: boolean; factors?: boolean; client?: boolean } = {}) => ({
  policy: o.policy ?? 'optional',
  account: { requireMfa: o.user ?? false, hasFactors: o.factors ?? false },
  client: { requireMfa: o.client ?? false },
});

test('a second factor is required when the account has one, or by policy, client or user', (t) => {
  t.false(secondFactorRequired(inputs()));
  t.true(secondFactorRequired(inputs({ factors: true })));
  t.true(secondFactorRequired(inputs({ policy: 'required' })));
  t.true(secondFactorRequired(inputs({ client: true })));
  t.true(secondFactorRequired(inputs({ user: true })));
  t.false(mfaMandatory(inputs({ factors: true })), 'having a factor does not make enrolment mandatory');
});

test('acr/amr say what happened (RFC 8176 values)', (t) => {
  t.deepEqual(passwordOnly(), { acr: ACR_PASSWORD, amr: ['pwd'] });
  t.deepEqual(withSecondFactor({ kind: 'totp' }), { acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] });
  t.deepEqual(withSecondFactor({ kind: 'recovery' }).amr, ['pwd', 'otp', 'mfa']);
  t.deepEqual(withSecondFactor({ kind: 'webauthn', synced: false, userVerified: true }).amr, ['pwd', 'hwk', 'user', 'mfa']);
  t.deepEqual(withSecondFactor({ kind: 'webauthn', synced: true, userVerified: false }).amr, ['pwd', 'swk', 'mfa']);
  t.deepEqual(passkeyOnly({ synced: false }), { acr: ACR_MFA, amr: ['hwk', 'user', 'mfa'] });
  t.deepEqual(passwordOnTrustedDevice(), { acr: ACR_MFA, amr: ['pwd', 'mfa'] });
  // A step-up keeps what the session proved before.
  t.deepEqual(withSecondFactor({ kind: 'totp' }, ['hwk', 'user', 'mfa']).amr, ['hwk', 'user', 'otp', 'mfa']);
});

test('a remembered device satisfies MFA unless the client turned trusted devices off', (t) => {
  const device = passwordOnTrustedDevice();
  t.true(satisfiesMfa(device, { trustedDevices: true }));
  t.false(satisfiesMfa(device, { trustedDevices: false }));
  t.true(satisfiesMfa(withSecondFactor({ kind: 'totp' }), { trustedDevices: false }));
  t.false(satisfiesMfa(passwordOnly(), { trustedDevices: true }));
  t.false(provedPossession(device.amr));
  t.false(provedPossession(undefined));
});

test('a request asks for MFA through acr_values or the claims parameter', (t) => {
  const claims = (value: unknown) => ({ claims: JSON.stringify(value) });
  t.true(requestsMfa({ acr_values: `${ACR_PASSWORD} ${ACR_MFA}` }));
  t.false(requestsMfa({ acr_values: ACR_PASSWORD }));
  t.true(requestsMfa(claims({ id_token: { acr: { essential: true, value: ACR_MFA } } })));
  t.true(requestsMfa(claims({ id_token: { acr: { essential: true, values: [ACR_PASSWORD, ACR_MFA] } } })));
  // The userinfo member asks as much as the id_token one; a voluntary request as much as acr_values.
  t.true(requestsMfa(claims({ userinfo: { acr: { essential: true, value: ACR_MFA } } })));
  t.true(requestsMfa(claims({ id_token: { acr: { values: [ACR_MFA] } } })));
  t.true(requestsMfa(claims({ userinfo: { acr: { value: ACR_MFA } } })));
  // acr_values=pwd next to it takes nothing away.
  t.true(requestsMfa({ acr_values: ACR_PASSWORD, ...claims({ id_token: { acr: { essential: true, value: ACR_MFA } } }) }));
  t.false(requestsMfa(claims({ id_token: { acr: { essential: true, value: ACR_PASSWORD } }, userinfo: { email: null } })));
  t.false(requestsMfa(claims({ id_token: { acr: null } })));
  t.false(requestsMfa({ claims: '{not json' }));
  t.false(requestsMfa({ claims: 'null' }));
  t.false(requestsMfa({}));
});

test('a malformed acr request in the claims parameter is named, a well-formed one passes', (t) => {
  t.is(acrRequestProblem({ id_token: { acr: { essential: true, values: [ACR_MFA] } }, userinfo: { acr: null, email: null } }), undefined);
  t.is(acrRequestProblem({}), undefined);
  t.is(acrRequestProblem({ id_token: { acr: 'x' } }), 'claims.id_token.acr must be null or an object');
  t.is(acrRequestProblem({ userinfo: { acr: [ACR_MFA] } }), 'claims.userinfo.acr must be null or an object');
  t.is(acrRequestProblem({ id_token: { acr: { values: ACR_MFA } } }), 'claims.id_token.acr values must be an array of strings');
  t.is(acrRequestProblem({ id_token: { acr: { values: [ACR_MFA, 1] } } }), 'claims.id_token.acr values must be an array of strings');
  t.is(acrRequestProblem({ userinfo: { acr: { value: 1 } } }), 'claims.userinfo.acr value must be a string');
  t.is(acrRequestProblem({ id_token: { acr: { essential: 'true', value: ACR_MFA } } }), 'claims.id_token.acr essential must be a boolean');
});

test('the request is one of the inputs of the one "MFA required" rule', (t) => {
  const base = { policy: 'optional' as const, account: { requireMfa: false, hasFactors: false }, client: { requireMfa: false } };
  t.false(mfaMandatory(base));
  t.false(secondFactorRequired({ ...base, request: {} }));
  t.true(mfaMandatory({ ...base, request: { acr_values: `${ACR_PASSWORD} ${ACR_MFA}` } }));
  t.true(secondFactorRequired({ ...base, request: { claims: JSON.stringify({ id_token: { acr: { essential: true, value: ACR_MFA } } }) } }));
  t.false(secondFactorRequired({ ...base, request: { acr_values: ACR_PASSWORD } }));
});
