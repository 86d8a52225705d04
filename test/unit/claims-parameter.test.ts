import test from 'ava';
import { errors, type ClaimsParameter, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_MFA } from '../../server/mfa/policy.ts';
import { assertClaimsParameter } from '../../server/oidc/claims-parameter.ts';

const assert = (claims: unknown) => () => assertClaimsParameter({} as KoaContextWithOIDC, claims as ClaimsParameter);

test('well-formed claims parameters pass', (t) => {
  t.notThrows(assert({ userinfo: { email: null, name: { essential: true } } }));
  t.notThrows(assert({ id_token: { acr: { essential: true, values: [ACR_MFA] }, auth_time: null } }));
});

test('members that are not null or objects, and malformed acr requests, are invalid_request', (t) => {
  for (const claims of [
    { userinfo: { email: true } }, { id_token: { email: 'yes' } }, { id_token: { email: [] } },
    { id_token: { acr: { essential: true, values: ACR_MFA } } }, { userinfo: { acr: { value: 1 } } },
  ]) {
    t.throws(assert(claims), { instanceOf: errors.InvalidRequest }, JSON.stringify(claims));
  }
});
