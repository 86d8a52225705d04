-- Latchkey core schema: APIs, clients, accounts, signing keys.

CREATE TABLE apis (
  id uuid PRIMARY KEY,
  identifier text NOT NULL UNIQUE,
  name text,
  scopes text[] NOT NULL DEFAULT '{}',
  access_token_ttl integer NOT NULL CHECK (access_token_ttl > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clients (
  client_id text PRIMARY KEY,
  name text NOT NULL,
  grant_types text[] NOT NULL,
  redirect_uris text[] NOT NULL DEFAULT '{}',
  post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
  token_endpoint_auth_method text NOT NULL,
  -- Only keyed hashes of secrets are stored (never the secret itself).
  secret_hash text,
  previous_secret_hash text,
  previous_secret_expires_at timestamptz,
  jwks jsonb,
  first_party boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which scopes of which API a client may obtain.
CREATE TABLE client_api_scopes (
  client_id text NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  api_id uuid NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
  scopes text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (client_id, api_id)
);

CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  email_verified boolean NOT NULL DEFAULT false,
  name text,
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  -- AES-256-GCM envelope of the private JWK under a key derived from LATCHKEY_SECRET.
  private_jwk_encrypted text NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when a newer key of the same alg took over signing.
  retired_at timestamptz
);

-- Servers cache clients, APIs and keys; every admin change bumps this
-- counter and servers poll it to drop their caches.
CREATE TABLE cache_generation (
  id integer PRIMARY KEY CHECK (id = 1),
  generation bigint NOT NULL
);
INSERT INTO cache_generation (id, generation) VALUES (1, 0);

CREATE FUNCTION bump_cache_generation() RETURNS trigger AS $$
BEGIN
  UPDATE cache_generation SET generation = generation + 1 WHERE id = 1;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER apis_changed AFTER INSERT OR UPDATE OR DELETE ON apis
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation();
CREATE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation();
CREATE TRIGGER client_api_scopes_changed AFTER INSERT OR UPDATE OR DELETE ON client_api_scopes
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_generation();
