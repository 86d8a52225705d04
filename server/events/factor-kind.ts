// details.kind of factor.added / factor.removed: a synced (backed-up)
// WebAuthn credential is a passkey, a device-bound one a security key.
import type { Factor } from '../mfa/types.ts';
import type { FactorKind } from './security-event.ts';

export const factorKind = (factor: Pick<Factor, 'kind' | 'synced'>): FactorKind =>
  (factor.kind === 'totp' ? 'totp' : factor.synced ? 'passkey' : 'webauthn');
