// SQL for `clients` and `client_api_scopes`. Rows map to the Client type
// (with the APIs and scopes it may obtain); nothing else writes these tables.
import type { Queryable, Database } from '../db/database.ts';
import { randomSecret } from '../crypto/secrets.ts';
import { fieldsOf } from '../db/rows.ts';
import { NotFoundError, UserError } from '../errors.ts';
import type { AuthMethod, Client, ClientApiGrant, ClientChanges, GrantType, IdTokenAlg, NewClient } from './types.ts';
import { isStorableText } from '../db/text.ts';

interface ClientRow {
  client_id: string;
  name: string;
  grant_types: GrantType[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  token_endpoint_auth_method: AuthMethod;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  jwks: { keys: object[] } | null;
  first_party: boolean;
  require_mfa: boolean;
  trusted_devices: boolean;
  id_token_signed_response_alg: IdTokenAlg;
  created_at: Date;
  apis: ClientApiGrant[];
}

// One row per client with its grants folded into a JSON array.
const SELECT_CLIENTS = `
  SELECT c.client_id, c.name, c.grant_types, c.redirect_uris, c.post_logout_redirect_uris,
         c.token_endpoint_auth_method, c.secret_hash, c.previous_secret_hash,
         c.previous_secret_expires_at, c.jwks, c.first_party, c.require_mfa, c.trusted_devices,
         c.id_token_signed_response_alg, c.created_at,
         coalesce(json_agg(json_build_object('apiIdentifier', a.identifier, 'scopes', s.scopes)
                  ORDER BY a.identifier) FILTER (WHERE a.id IS NOT NULL), '[]') AS apis
  FROM clients c
  LEFT JOIN client_api_scopes s ON s.client_id = c.client_id
  LEFT JOIN apis a ON a.id = s.api_id`;

function toClient(row: ClientRow): Client {
  const { idTokenSignedResponseAlg: idTokenAlg, ...client } = fieldsOf(row);
  return { ...client, idTokenAlg };
}

/**
 * Stores a client and its API grants atomically. The client_id is generated
 * here (128 random bits); `secretHash` is the keyed hash, never the secret.
 */
export function insertClient(db: Database, client: NewClient, secretHash: string | null): Promise<Client> {
  const clientId = newClientId();
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO clients (client_id, name, grant_types, redirect_uris, post_logout_redirect_uris,
         token_endpoint_auth_method, secret_hash, jwks, first_party, id_token_signed_response_alg, require_mfa, trusted_devices)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [clientId, client.name, client.grantTypes, client.redirectUris, client.postLogoutRedirectUris,
        client.tokenEndpointAuthMethod, secretHash, client.jwks && JSON.stringify(client.jwks), client.firstParty, client.idTokenAlg,
        client.requireMfa ?? false, client.trustedDevices ?? true],
    );
    await insertGrants(tx, clientId, client.apis);
    return (await findClientById(tx, clientId))!;
  });
}

/** Resolves API identifiers and checks every scope is one the API offers. */
async function insertGrants(tx: Queryable, clientId: string, grants: ClientApiGrant[]): Promise<void> {
  const seen = new Set<string>();
  for (const grant of grants) {
    if (seen.has(grant.apiIdentifier)) throw new UserError(`API ${grant.apiIdentifier} is listed twice`);
    seen.add(grant.apiIdentifier);
    const { rows } = await tx.query<{ id: string; scopes: string[] }>(
      'SELECT id, scopes FROM apis WHERE identifier = $1', [grant.apiIdentifier]);
    if (!rows[0]) throw new NotFoundError(`unknown API ${grant.apiIdentifier}`);
    const unknown = grant.scopes.filter((scope) => !rows[0].scopes.includes(scope));
    if (unknown.length) {
      throw new UserError(`API ${grant.apiIdentifier} does not offer the scope${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    }
    await tx.query('INSERT INTO client_api_scopes (client_id, api_id, scopes) VALUES ($1, $2, $3)',
      [clientId, rows[0].id, [...new Set(grant.scopes)]]);
  }
}

export async function findClientById(db: Queryable, clientId: string): Promise<Client | undefined> {
  if (!isStorableText(clientId)) return undefined;
  const { rows } = await db.query<ClientRow>(`${SELECT_CLIENTS} WHERE c.client_id = $1 GROUP BY c.client_id`, [clientId]);
  return rows[0] && toClient(rows[0]);
}

export async function listClients(db: Queryable): Promise<Client[]> {
  const { rows } = await db.query<ClientRow>(`${SELECT_CLIENTS} GROUP BY c.client_id ORDER BY c.created_at, c.client_id`);
  return rows.map(toClient);
}

const CHANGE_COLUMNS: Record<keyof ClientChanges, string> = {
  name: 'name',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  firstParty: 'first_party',
  requireMfa: 'require_mfa',
  trustedDevices: 'trusted_devices',
};

/**
 * Changes the given fields (validate first: see validateClientChanges). The
 * clients_changed trigger bumps cache_generation, so running servers drop
 * their cached copy within CACHE_REFRESH_INTERVAL.
 */
export async function updateClient(db: Queryable, clientId: string, changes: ClientChanges): Promise<Client> {
  const entries = (Object.keys(CHANGE_COLUMNS) as (keyof ClientChanges)[])
    .filter((key) => changes[key] !== undefined)
    .map((key) => [CHANGE_COLUMNS[key], changes[key]] as const);
  if (entries.length === 0) throw new UserError('nothing to change');
  const sets = entries.map(([column], i) => `${column} = $${i + 2}`).join(', ');
  const { rowCount } = await db.query(
    `UPDATE clients SET ${sets}, updated_at = now() WHERE client_id = $1`, [clientId, ...entries.map(([, value]) => value)]);
  if (!rowCount) throw new NotFoundError(`unknown client ${clientId}`);
  return (await findClientById(db, clientId))!;
}

/** Deletes a client (its grants go with it); false when there was none. */
export async function deleteClient(db: Queryable, clientId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
  return (rowCount ?? 0) > 0;
}

/**
 * Replaces the secret hash. The replaced hash stays valid until
 * previousExpiresAt so deployments can roll over; pass nulls to revoke it now.
 */
export async function setClientSecret(
  db: Queryable, clientId: string, newHash: string, previousHash: string | null, previousExpiresAt: Date | null,
): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE clients SET secret_hash = $2, previous_secret_hash = $3, previous_secret_expires_at = $4, updated_at = now()
     WHERE client_id = $1`,
    [clientId, newHash, previousHash, previousHash ? previousExpiresAt : null],
  );
  if (!rowCount) throw new NotFoundError(`unknown client ${clientId}`);
}

/** Client ids holding grants on an API (to warn before deleting it). */
export async function listClientIdsForApi(db: Queryable, apiId: string): Promise<string[]> {
  const { rows } = await db.query<{ client_id: string }>(
    'SELECT client_id FROM client_api_scopes WHERE api_id = $1 ORDER BY client_id', [apiId]);
  return rows.map((row) => row.client_id);
}

/** 128 random bits; never starting with "-" or "_", so it cannot be mistaken for a CLI flag. */
function newClientId(): string {
  for (;;) {
    const id = randomSecret(16);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}
