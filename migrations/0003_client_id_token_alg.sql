-- The algorithm a client's ID tokens are signed with: ES256 for new clients,
-- RS256 for clients that support nothing else. Clients registered before this
-- migration got oidc-provider's default, RS256, and keep it.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT 'RS256'
  CHECK (id_token_signed_response_alg IN ('ES256', 'RS256'));
ALTER TABLE clients ALTER COLUMN id_token_signed_response_alg SET DEFAULT 'ES256';
