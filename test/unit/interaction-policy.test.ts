import test from 'ava';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA, ACR_PASSWORD } from '../../server/mfa/policy.ts';
import { buildInteractionPolicy } from '../../server/oidc/interaction-policy.ts';

const login = buildInteractionPolicy(3600, {
  policy: 'optional',
  hasFactors: async () => false,
  clientSettings: async () => ({ requireMfa: false, trustedDevices: true }),
}).get('login')!;

/** Runs one login check on a context with just what the checks read. */
function check(reason: string, oidc: Record<string, unknown>) {
  return login.checks.get(reason)!.check({ oidc } as unknown as KoaContextWithOIDC);
}

const passwordSession = { accountId: 'a', loginTs: Math.floor(Date.now() / 1000), acr: ACR_PASSWORD, amr: ['pwd'] };
const mfaSession = { ...passwordSession, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'] };
const signedIn = (session: object, params: Record<string, string>) => ({
  session, params, client: { clientId: 'c' }, account: { profile: { id: 'a', requireMfa: false } },
});
const claims = (value: unknown) => ({ claims: JSON.stringify(value) });

test('second_factor_needed: an acr mfa request in the claims parameter steps up a password-only session (user without factors)', async (t) => {
  for (const params of [
    claims({ id_token: { acr: { essential: true, value: ACR_MFA } } }),
    claims({ userinfo: { acr: { essential: true, values: [ACR_MFA] } } }),
    claims({ id_token: { acr: { values: [ACR_MFA] } } }),
    { acr_values: ACR_MFA },
  ]) {
    t.true(await check('second_factor_needed', signedIn(passwordSession, params)), JSON.stringify(params));
    t.false(await check('second_factor_needed', signedIn(mfaSession, params)), `met by a two-factor session: ${JSON.stringify(params)}`);
  }
  t.false(await check('second_factor_needed', signedIn(passwordSession, claims({ userinfo: { email: null } }))));
});

test('an essential acr the session lacks asks for a sign-in; after a sign-in in this request it fails instead of asking again', async (t) => {
  const essential = (acr: object) => ({ claims: { id_token: { acr: { essential: true, ...acr } } } });
  t.true(await check('essential_acr', { ...essential({ value: ACR_PASSWORD }), acr: ACR_MFA }));
  t.true(await check('essential_acrs', { ...essential({ values: ['urn:example:unknown'] }), acr: ACR_PASSWORD }));
  t.false(await check('essential_acr', { ...essential({ value: ACR_MFA }), acr: ACR_MFA }));
  t.false(await check('essential_acrs', { ...essential({ values: [ACR_PASSWORD, ACR_MFA] }), acr: ACR_MFA, result: { login: {} } }));
  t.false(await check('essential_acr', { claims: { id_token: { acr: { value: ACR_PASSWORD } } }, acr: ACR_MFA }), 'a voluntary acr is no check of oidc-provider');
  await t.throwsAsync(async () => check('essential_acr', { ...essential({ value: ACR_PASSWORD }), acr: ACR_MFA, result: { login: {} } }), {
    instanceOf: errors.UnmetAuthenticationRequirements,
  });
  await t.throwsAsync(async () => check('essential_acrs', { ...essential({ values: ['urn:example:unknown'] }), acr: ACR_PASSWORD, result: { login: {} } }), {
    instanceOf: errors.UnmetAuthenticationRequirements,
  });
});
