// The claims parameter (OIDC Core 5.5). oidc-provider parses it and refuses
// JSON that is not an object with userinfo/id_token objects (invalid_request);
// this hook replaces its default one, so it repeats that one's member check,
// and adds Latchkey's own: the acr requests that can ask for MFA
// (mfa/policy.ts requestsMfa) must be well-formed, or the request is refused.
import { errors, type ClaimsParameter, type KoaContextWithOIDC } from 'oidc-provider';
import { acrRequestProblem } from '../mfa/policy.ts';

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

export function assertClaimsParameter(_ctx: KoaContextWithOIDC, claims: ClaimsParameter): void {
  for (const member of ['userinfo', 'id_token'] as const) {
    for (const request of Object.values(claims[member] ?? {})) {
      if (request !== null && !isObject(request)) throw new errors.InvalidRequest(`claims.${member} members must be null or objects`);
    }
  }
  const problem = acrRequestProblem(claims);
  if (problem) throw new errors.InvalidRequest(problem);
}
