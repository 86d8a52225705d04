-- Multi-factor authentication: TOTP authenticators, WebAuthn credentials,
-- recovery codes, trusted devices, and who must use a second factor.

-- `users require-mfa`: this account must sign in with two factors.
ALTER TABLE accounts ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
-- `clients create/update --require-mfa`: sign-ins for this client need two factors.
ALTER TABLE clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
-- `clients update --no-trusted-devices`: a remembered device does not stand in for a second factor.
ALTER TABLE clients ADD COLUMN trusted_devices boolean NOT NULL DEFAULT true;

CREATE TABLE totp_factors (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  -- AES-256-GCM envelope of the base32 secret under a key derived from LATCHKEY_SECRET.
  secret_encrypted text NOT NULL,
  -- The last 30-second step a code was accepted for: that step and earlier ones are refused (replay).
  last_used_step bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX totp_factors_account ON totp_factors (account_id);

CREATE TABLE webauthn_credentials (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  -- base64url credential ID, unique across all accounts.
  credential_id text NOT NULL UNIQUE,
  public_key bytea NOT NULL,
  -- Signature counter; a response with a counter not above it is refused.
  sign_count bigint NOT NULL DEFAULT 0,
  transports text[] NOT NULL DEFAULT '{}',
  -- 'singleDevice' or 'multiDevice' (synced passkey), and whether it is backed up.
  device_type text NOT NULL,
  backed_up boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_account ON webauthn_credentials (account_id);

CREATE TABLE recovery_codes (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- Keyed hash (HMAC) of the code; the code itself is shown once and never stored.
  code_hash text NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE trusted_devices (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- Keyed hash of the device token held in the browser's cookie.
  token_hash text NOT NULL UNIQUE,
  -- What the user sees in the list, e.g. "Chrome on Linux".
  label text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  expires_at timestamptz NOT NULL
);
CREATE INDEX trusted_devices_account ON trusted_devices (account_id);
