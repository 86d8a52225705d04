// The browser's WebAuthn response arrives as JSON in a form field; anything
// that is not a JSON object is refused like any other failed ceremony.
import { ceremonyStatus, MfaError, type Ceremony } from '../types.ts';

export function parseWebAuthnResponse<T>(field: string | undefined, ceremony: Ceremony): T {
  try {
    const value: unknown = JSON.parse(field ?? '');
    if (value !== null && typeof value === 'object') return value as T;
  } catch {
    // fall through
  }
  throw new MfaError('mfa.webauthn.failed', { status: ceremonyStatus(ceremony), detail: 'the WebAuthn response is not a JSON object' });
}
