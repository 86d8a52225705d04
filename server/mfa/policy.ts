// Who must give a second factor, and what a sign-in proved (acr/amr).
// Pure decisions: the interaction policy, the sign-in steps and the account
// page all ask these, so the answer is the same everywhere.

/** acr values (discovery lists them as acr_values_supported). */
export const ACR_PASSWORD = 'urn:latchkey:acr:pwd';
export const ACR_MFA = 'urn:latchkey:acr:mfa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_MFA];

/**
 * amr values (RFC 8176). A recovery code is a one-time password (`otp`); a
 * WebAuthn key is `hwk` when bound to its device, `swk` when it is a synced
 * passkey; `user` when the authenticator verified the user (PIN or
 * biometric); `mfa` when two factors were proven.
 */
export type AmrValue = 'pwd' | 'otp' | 'hwk' | 'swk' | 'user' | 'mfa';

/** amr entries that prove a possession factor in this sign-in itself. */
const POSSESSION = new Set(['otp', 'hwk', 'swk']);

export type SecondFactorMethod = { kind: 'totp' } | { kind: 'recovery' } | { kind: 'webauthn'; synced: boolean; userVerified: boolean };

export interface SignInResult {
  acr: string;
  amr: AmrValue[];
}

const keyAmr = (method: { synced: boolean; userVerified: boolean }): AmrValue[] =>
  [method.synced ? 'swk' : 'hwk', ...(method.userVerified ? ['user' as const] : [])];

/** Password alone. */
export const passwordOnly = (): SignInResult => ({ acr: ACR_PASSWORD, amr: ['pwd'] });

/**
 * A second factor on top of what was proven before: the password in this
 * flow, or the session's own sign-in for a step-up.
 */
export function withSecondFactor(method: SecondFactorMethod, before: readonly string[] = ['pwd']): SignInResult {
  const factor: AmrValue[] = method.kind === 'webauthn' ? keyAmr(method) : ['otp'];
  const amr = new Set([...before.filter((v) => v !== 'mfa'), ...factor, 'mfa']);
  return { acr: ACR_MFA, amr: [...amr] as AmrValue[] };
}

/**
 * What adding a factor proved: its first code, or possession of the key that
 * created the credential (registration's user verification is not counted).
 * The sign-in's enrolment and the account page both record it so.
 */
export const addedFactor = (factor: { kind: 'totp' | 'webauthn'; synced?: boolean }): SecondFactorMethod =>
  (factor.kind === 'totp' ? { kind: 'totp' } : { kind: 'webauthn', synced: factor.synced ?? false, userVerified: false });

/** A passkey alone: possession of the key plus the authenticator's user verification. */
export const passkeyOnly = (method: { synced: boolean }): SignInResult =>
  ({ acr: ACR_MFA, amr: [...keyAmr({ synced: method.synced, userVerified: true }), 'mfa'] });

/** Password on a remembered device: the device stands in for the second factor. */
export const passwordOnTrustedDevice = (): SignInResult => ({ acr: ACR_MFA, amr: ['pwd', 'mfa'] });

/** Did this session prove a possession factor (not a remembered device)? */
export const provedPossession = (amr: readonly string[] | undefined): boolean => (amr ?? []).some((v) => POSSESSION.has(v));

/**
 * Does a session's sign-in satisfy two factors? A remembered device counts
 * unless the client turned trusted devices off.
 */
export function satisfiesMfa(session: { acr?: string; amr?: readonly string[] }, client: { trustedDevices: boolean }): boolean {
  if (provedPossession(session.amr)) return true;
  return client.trustedDevices && session.acr === ACR_MFA;
}

export interface MfaInputs {
  policy: 'optional' | 'required';
  account: { requireMfa: boolean; hasFactors: boolean };
  client: { requireMfa: boolean };
  /** The authorization request's parameters, where there is one (the account page has none). */
  request?: { acr_values?: unknown; claims?: unknown };
}

/**
 * Must this sign-in include a second factor? Always when the account has one;
 * otherwise when mfaMandatory says so (the user then enrols during sign-in).
 * The one rule the login policy (interaction-policy.ts), the sign-in flow and
 * the account page ask.
 */
export function secondFactorRequired(input: MfaInputs): boolean {
  if (input.account.hasFactors) return true;
  return mfaMandatory(input);
}

/**
 * Does the authorization request ask for ACR_MFA? In acr_values, or as the
 * acr claim of the claims parameter (id_token or userinfo member, `value` or
 * `values`), essential or not: acr_values is itself a voluntary acr request
 * (OIDC Core 3.1.2.1; oidc-provider turns it into one), so both read alike.
 * Latchkey then treats MFA as mandatory for that request: a user without a
 * factor sets one up, a password-only session steps up.
 */
export function requestsMfa(params: { acr_values?: unknown; claims?: unknown }): boolean {
  if (typeof params.acr_values === 'string' && params.acr_values.split(' ').includes(ACR_MFA)) return true;
  return acrRequests(params.claims).some((acr) => acr.value === ACR_MFA || (Array.isArray(acr.values) && acr.values.includes(ACR_MFA)));
}

interface AcrRequest {
  essential?: unknown;
  value?: unknown;
  values?: unknown;
}

/** The acr requests of a claims parameter (OIDC Core 5.5.1); none when it is not JSON (oidc-provider refuses it first). */
function acrRequests(claims: unknown): AcrRequest[] {
  if (typeof claims !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(claims);
  } catch {
    return [];
  }
  return acrMembers(parsed).flatMap(([, acr]) => (typeof acr === 'object' && acr !== null ? [acr as AcrRequest] : []));
}

const acrMembers = (claims: unknown): [string, unknown][] =>
  (['id_token', 'userinfo'] as const).map((member) => [member, (claims as Record<string, Record<string, unknown> | undefined> | null)?.[member]?.acr]);

const isStringArray = (value: unknown): boolean => Array.isArray(value) && value.every((v) => typeof v === 'string');

function acrProblem(acr: unknown): string | undefined {
  if (acr === undefined || acr === null) return undefined;
  if (typeof acr !== 'object' || Array.isArray(acr)) return 'must be null or an object';
  const { essential, value, values } = acr as AcrRequest;
  if (essential !== undefined && typeof essential !== 'boolean') return 'essential must be a boolean';
  if (value !== undefined && typeof value !== 'string') return 'value must be a string';
  if (values !== undefined && !isStringArray(values)) return 'values must be an array of strings';
  return undefined;
}

/**
 * Why a parsed claims parameter's acr requests are malformed, if they are. A
 * malformed request is refused (invalid_request), never read as "no MFA".
 */
export function acrRequestProblem(claims: unknown): string | undefined {
  for (const [member, acr] of acrMembers(claims)) {
    const problem = acrProblem(acr);
    if (problem) return `claims.${member}.acr ${problem}`;
  }
  return undefined;
}

/**
 * Must the user have a factor at all (enrolment inside sign-in when missing)?
 * When the global policy, the client or the account requires one, or the
 * request asks for acr MFA (requestsMfa).
 */
export const mfaMandatory = (input: Omit<MfaInputs, 'account'> & { account: { requireMfa: boolean } }): boolean =>
  input.policy === 'required' || input.client.requireMfa || input.account.requireMfa || (input.request !== undefined && requestsMfa(input.request));
