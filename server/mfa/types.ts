// What the sign-in flow, the account page and the CLI need from the MFA
// stores, injected (fosite style): each consumer takes only the interfaces it
// uses. Implementations live beside this file (totp/, webauthn/, recovery/,
// trusted-devices/); SQL in one query module per table.
import { LatchkeyError, type MessageKey } from '../errors.ts';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export type FactorKind = 'totp' | 'webauthn';

/** A second factor as the account page and the CLI list it. */
export interface Factor {
  id: string;
  kind: FactorKind;
  /** Chosen by the user ("Phone", "YubiKey 5C"). */
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** WebAuthn only: a synced (multi-device) passkey rather than a device-bound key. */
  synced?: boolean;
}

/**
 * A refused factor (wrong code, unknown key, ...): the user reads its key's
 * text; `detail` is for the logs. 400 for a refused set-up (registration),
 * 401 for a refused proof (authentication).
 */
export class MfaError extends LatchkeyError {
  override name = 'MfaError';
  constructor(messageKey: MessageKey, options: { status?: 400 | 401; detail?: string } = {}) {
    super(messageKey, options.detail ?? messageKey, { status: options.status ?? 400 });
  }
}

/** The WebAuthn ceremony a refusal belongs to: it decides the status (400 or 401). */
export type Ceremony = 'registration' | 'authentication';
export const ceremonyStatus = (ceremony: Ceremony): 400 | 401 => (ceremony === 'registration' ? 400 : 401);

/** A WebAuthn credential as authentication options list it. */
export interface WebAuthnKey {
  /** base64url, as the browser reports it. */
  id: string;
  transports: string[];
}

/**
 * An account's factors in brief, loaded with the account in one query
 * (accounts/account-queries.ts findSignInSubject): what the sign-in steps
 * decide (has it a factor?) and render (TOTP field, security key options) from.
 */
export interface FactorSummary {
  hasTotp: boolean;
  webauthn: WebAuthnKey[];
}

export const hasAnyFactor = (factors: FactorSummary): boolean => factors.hasTotp || factors.webauthn.length > 0;

export interface TotpSetup {
  /** Base32 secret, shown as text for manual entry. */
  secret: string;
  /** otpauth://totp/... with issuer = the product name. */
  uri: string;
  /** The URI as an inline SVG QR code, rendered locally. */
  qrSvg: string;
}

export interface TotpFactors {
  /**
   * A fresh secret (or the given one, to show the same QR code again after a
   * wrong code) with its URI and QR code; nothing is stored until `confirm`.
   */
  setup(accountEmail: string, secret?: string): Promise<TotpSetup>;
  /**
   * Stores the factor when `code` is right for `secret` (the accepted step is
   * recorded, so the same code cannot be used to sign in). undefined when
   * wrong, or when the account already has this secret (a double submit).
   */
  confirm(accountId: string, name: string, secret: string, code: string): Promise<Factor | undefined>;
  /**
   * Checks a code against each of the account's TOTP factors (SHA-1, 6 digits,
   * 30 s, ±1 step). A step at or before the last step used with any of the account's TOTP factors is refused
   * (atomic compare-and-set). Returns the factor that matched.
   */
  verify(accountId: string, code: string): Promise<Factor | undefined>;
}

export interface RecoveryCodes {
  /** Voids the account's codes and returns 10 new ones, in clear, this once. */
  regenerate(accountId: string): Promise<string[]>;
  /** Uses a code (any case, spaces and dashes ignored) once. undefined when not valid. */
  use(accountId: string, code: string): Promise<{ remaining: number } | undefined>;
  remaining(accountId: string): Promise<number>;
}

/** The WebAuthn ceremony a challenge belongs to. */
export type ChallengePurpose = 'register' | 'second-factor' | 'passkey';

export interface WebAuthnCredentials {
  /**
   * Options for navigator.credentials.create. The challenge is stored under
   * `binding` (an interaction uid or a session id) and `purpose`, single use.
   * Existing credentials of the account are excluded; resident key preferred,
   * user verification preferred.
   */
  registrationOptions(binding: string, account: { id: string; email: string; name: string | null }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies and stores a new credential (throws MfaError on any failure). */
  register(binding: string, accountId: string, name: string, response: RegistrationResponseJSON): Promise<Factor>;
  /**
   * Options for navigator.credentials.get. With an account: its credentials,
   * user verification preferred (second factor); `keys`, when the caller
   * loaded them already (FactorSummary), saves looking them up again.
   * Without: discoverable credentials, user verification required (passkey sign-in).
   */
  authenticationOptions(binding: string, purpose: 'second-factor' | 'passkey', accountId?: string, keys?: WebAuthnKey[]): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Verifies an assertion: challenge consumed once (bound to `binding` and
   * `purpose`), exact origin and RP ID, counter must grow, UV required for
   * 'passkey'. For 'second-factor' the credential must belong to `accountId`.
   * Throws MfaError on any failure.
   */
  authenticate(binding: string, purpose: 'second-factor' | 'passkey', response: AuthenticationResponseJSON, accountId?: string): Promise<{ accountId: string; factor: Factor; userVerified: boolean }>;
}

export interface TrustedDevice {
  id: string;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date;
}

export interface TrustedDevices {
  /** Remembers this browser for the account; returns the token for its cookie. */
  remember(accountId: string, label: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }>;
  /** Whether one of the cookie's tokens is a live device of the account, remembered since its last sign-out everywhere (records its use). */
  isTrusted(accountId: string, tokens: string[]): Promise<boolean>;
  /** The accounts that the cookie's tokens are live devices of (no use recorded). */
  accountIdsFor(tokens: string[]): Promise<string[]>;
  /** The keyed hashes the cookie's well-formed tokens are stored under (for a lookup that joins them, findSignInSubject). */
  tokenHashes(tokens: string[]): string[];
  list(accountId: string): Promise<TrustedDevice[]>;
  forget(accountId: string, id: string): Promise<boolean>;
}

/** Factors of an account as a whole: listing, removal, admin reset. */
/** What a reset removed, by kind. */
export interface FactorCounts { totp: number; webauthn: number; recoveryCodes: number; trustedDevices: number }

export interface FactorDirectory {
  list(accountId: string): Promise<Factor[]>;
  hasFactors(accountId: string): Promise<boolean>;
  /**
   * Removes one factor; when it was the last, the recovery codes go too.
   * 'not-found' when the account has no such factor. With `keepLast` (MFA is
   * mandatory for the account), the account's last factor (TOTP and WebAuthn
   * counted together) stays and the answer is 'last-factor'; decided under the
   * account's row lock, so two concurrent removals of the last two factors
   * cannot both succeed.
   */
  remove(accountId: string, factorId: string, options?: { keepLast?: boolean }): Promise<'removed' | 'not-found' | 'last-factor'>;
  /** Removes every factor, recovery code and trusted device; says how many of each. */
  reset(accountId: string): Promise<FactorCounts>;
}
