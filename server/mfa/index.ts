// Wires the MFA stores from the process's database, keys, config and stores.
// Consumers import the interfaces they use from ./types.ts.
import type { AdapterFactory } from '../adapters/index.ts';
import type { Config } from '../config/index.ts';
import type { Keyring } from '../crypto/master-key.ts';
import type { Database } from '../db/database.ts';
import { createFactorDirectory } from './factor-directory.ts';
import { createRecoveryCodes } from './recovery/recovery-codes.ts';
import { createTotpFactors } from './totp/totp-factors.ts';
import { createTrustedDevices } from './trusted-devices/trusted-devices.ts';
import type { FactorDirectory, RecoveryCodes, TotpFactors, TrustedDevices, WebAuthnCredentials } from './types.ts';
import { createChallengeStore } from './webauthn/challenge-store.ts';
import { createWebAuthnCredentials } from './webauthn/webauthn-credentials.ts';

export interface MfaServices {
  totp: TotpFactors;
  webauthn: WebAuthnCredentials;
  recoveryCodes: RecoveryCodes;
  trustedDevices: TrustedDevices;
  factors: FactorDirectory;
}

export interface MfaServicesOptions {
  db: Database;
  keyring: Pick<Keyring, 'encryption' | 'secretHash'>;
  config: Pick<Config, 'issuer' | 'productName'>;
  adapterFactory: AdapterFactory;
}

export function createMfaServices({ db, keyring, config, adapterFactory }: MfaServicesOptions): MfaServices {
  const issuer = new URL(config.issuer);
  // Recovery codes and device tokens share the client-secret HMAC key; each
  // store prefixes what it hashes ("recovery:", "device:") so hashes never collide.
  const hashKey = keyring.secretHash;
  return {
    totp: createTotpFactors({ db, encryptionKey: keyring.encryption, productName: config.productName }),
    webauthn: createWebAuthnCredentials({
      db,
      challenges: createChallengeStore(adapterFactory),
      rpID: issuer.hostname,
      rpName: config.productName,
      // The origin, not config.issuer itself: an issuer with a path is not an origin.
      origin: issuer.origin,
    }),
    recoveryCodes: createRecoveryCodes({ db, hashKey }),
    trustedDevices: createTrustedDevices({ db, hashKey }),
    factors: createFactorDirectory(db),
  };
}

