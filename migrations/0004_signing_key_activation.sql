-- A rotated-in key can be published before it signs: with several servers,
-- every one serves the new public key before any token carries its kid.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
