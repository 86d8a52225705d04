-- Sessions and tokens of an account issued before this moment are no longer
-- honoured (set by `latchkey users sign-out` and `users set-password`).
ALTER TABLE accounts ADD COLUMN sessions_revoked_at timestamptz;
