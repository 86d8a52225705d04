// Security keys and passkeys (WebAuthn) with @simplewebauthn/server: no
// attestation checks (attestation 'none'), exact origin and RP ID, single-use
// challenges bound to their ceremony, and a signature counter that must grow.
// Every refusal is an MfaError with a message key; the caller logs it.
import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Queryable } from '../../db/database.ts';
import { ConflictError } from '../../errors.ts';
import { factorName } from '../factor-name.ts';
import { ceremonyStatus, MfaError, type Ceremony, type WebAuthnCredentials } from '../types.ts';
import type { ChallengeStore } from './challenge-store.ts';
import {
  findWebAuthnCredential, insertWebAuthnCredential, listWebAuthnCredentials, recordWebAuthnUse, webAuthnFactor,
} from './webauthn-queries.ts';

export const DEFAULT_KEY_NAME = 'Security key';
// EdDSA, ES256, RS256. Explicit, so simplewebauthn does not probe the runtime
// for post-quantum algorithms (an experimental Web Crypto call that warns).
const ALGORITHMS = [-8, -7, -257];
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface WebAuthnCredentialsOptions {
  db: Queryable;
  challenges: ChallengeStore;
  /** The issuer's host name. */
  rpID: string;
  rpName: string;
  /** The issuer's origin, matched exactly. */
  origin: string;
}

/** The user handle: the account UUID's 16 bytes (no email or name in it). */
export const userHandle = (accountId: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(Buffer.from(accountId.replace(/-/g, ''), 'hex'));

const failed = (ceremony: Ceremony) => new MfaError('mfa.webauthn.failed', { status: ceremonyStatus(ceremony) });

/**
 * simplewebauthn does not check crossOrigin at registration, and accepts a
 * cross-origin assertion without topOrigin: our pages are never framed, so
 * any ceremony run inside a frame is refused.
 */
function assertTopLevel(response: { response?: { clientDataJSON?: unknown } }, ceremony: Ceremony): void {
  try {
    const json = response.response?.clientDataJSON;
    if (typeof json !== 'string') throw failed(ceremony);
    const clientData = JSON.parse(Buffer.from(json, 'base64url').toString('utf8')) as { crossOrigin?: unknown; topOrigin?: unknown };
    if (clientData.crossOrigin === true || clientData.topOrigin !== undefined) throw failed(ceremony);
  } catch {
    throw failed(ceremony);
  }
}

const isResponse = (value: unknown): value is { id: string; response?: { clientDataJSON?: unknown; userHandle?: unknown } } =>
  typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string'
  && (value as { id: string }).id.length > 0 && (value as { id: string }).id.length <= 1400;

export function createWebAuthnCredentials({ db, challenges, rpID, rpName, origin }: WebAuthnCredentialsOptions): WebAuthnCredentials {
  return {
    async registrationOptions(binding, account) {
      const existing = await listWebAuthnCredentials(db, account.id);
      const options = await generateRegistrationOptions({
        rpName,
        rpID,
        userName: account.email,
        userDisplayName: account.name ?? account.email,
        userID: userHandle(account.id),
        attestationType: 'none',
        excludeCredentials: existing.map((c) => ({ id: c.credentialId, transports: c.transports })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        supportedAlgorithmIDs: ALGORITHMS,
      });
      await challenges.issue('register', binding, options.challenge);
      return options;
    },

    async register(binding, accountId, name, response: RegistrationResponseJSON) {
      const label = factorName(name, DEFAULT_KEY_NAME);
      if (!isResponse(response)) throw failed('registration');
      assertTopLevel(response, 'registration');
      let verification;
      try {
        verification = await verifyRegistrationResponse({
          response,
          expectedChallenge: challenges.verifier('register', binding),
          expectedOrigin: origin,
          expectedRPID: rpID,
          // 'preferred': a key without a PIN still makes a fine second factor.
          requireUserVerification: false,
          supportedAlgorithmIDs: ALGORITHMS,
        });
      } catch {
        throw failed('registration');
      }
      if (!verification.verified) throw failed('registration');
      const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
      try {
        const record = await insertWebAuthnCredential(db, {
          id: randomUUID(),
          accountId,
          name: label,
          credentialId: credential.id,
          publicKey: credential.publicKey,
          signCount: credential.counter,
          transports: (credential.transports ?? []).filter((t) => TRANSPORTS.has(t)),
          deviceType: credentialDeviceType,
          backedUp: credentialBackedUp,
        });
        return webAuthnFactor(record);
      } catch (error) {
        if (error instanceof ConflictError) throw new MfaError('mfa.webauthn.duplicate', { status: 400 });
        throw error;
      }
    },

    async authenticationOptions(binding, purpose, accountId, keys) {
      // A passkey sign-in names no account: the browser offers discoverable credentials.
      const allow = purpose !== 'second-factor' || !accountId ? []
        : keys ?? (await listWebAuthnCredentials(db, accountId)).map((c) => ({ id: c.credentialId, transports: c.transports }));
      const options = await generateAuthenticationOptions({
        rpID,
        allowCredentials: allow.map((c) => ({ id: c.id, transports: c.transports })),
        userVerification: purpose === 'passkey' ? 'required' : 'preferred',
      });
      await challenges.issue(purpose, binding, options.challenge);
      return options;
    },

    async authenticate(binding, purpose, response: AuthenticationResponseJSON, accountId) {
      if (!isResponse(response)) throw failed('authentication');
      const record = await findWebAuthnCredential(db, response.id);
      // Another account's key is as unknown as no key at all.
      if (!record || ((purpose === 'second-factor' || accountId !== undefined) && record.accountId !== accountId)) {
        throw new MfaError('mfa.webauthn.unknown', { status: 401 });
      }
      const handle = response.response?.userHandle;
      if (handle !== undefined && handle !== null && handle !== Buffer.from(userHandle(record.accountId)).toString('base64url')) throw failed('authentication');
      assertTopLevel(response, 'authentication');
      let verification;
      try {
        verification = await verifyAuthenticationResponse({
          response,
          expectedChallenge: challenges.verifier(purpose, binding),
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: { id: record.credentialId, publicKey: record.publicKey, counter: record.signCount, transports: record.transports },
          // A passkey is both factors at once, so it must have verified the user.
          requireUserVerification: purpose === 'passkey',
        });
      } catch {
        throw failed('authentication');
      }
      const { verified, authenticationInfo: info } = verification;
      if (!verified) throw failed('authentication');
      // simplewebauthn refuses these too; checked here as well so the rule cannot silently go.
      if ((info.newCounter > 0 || record.signCount > 0) && info.newCounter <= record.signCount) throw failed('authentication');
      if (purpose === 'passkey' && !info.userVerified) throw failed('authentication');
      const updated = await recordWebAuthnUse(db, record.id, record.signCount, { signCount: info.newCounter, backedUp: info.credentialBackedUp });
      if (!updated) throw failed('authentication'); // another use of this credential won the race
      return { accountId: record.accountId, factor: webAuthnFactor(updated), userVerified: info.userVerified };
    },
  };
}
