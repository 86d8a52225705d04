-- The algorithm a client's ID tokens are signed with: ES256 by default,
-- RS256 for clients that support nothing else.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'ES256'
  CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'));
