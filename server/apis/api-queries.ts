// SQL for the `apis` table. Rows map to the Api type; nothing else writes here.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.ts';
import { ConflictError } from '../errors.ts';
import type { Api, NewApi } from './types.ts';
import { fieldsOf } from '../db/rows.ts';
import { isStorableText, isUuid } from '../db/text.ts';

interface ApiRow {
  id: string;
  identifier: string;
  name: string | null;
  scopes: string[];
  access_token_ttl: number;
  created_at: Date;
}

const COLUMNS = 'id, identifier, name, scopes, access_token_ttl, created_at';

const toApi = (row: ApiRow): Api => fieldsOf(row);

export async function insertApi(db: Queryable, api: NewApi): Promise<Api> {
  try {
    const { rows } = await db.query<ApiRow>(
      `INSERT INTO apis (id, identifier, name, scopes, access_token_ttl) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [randomUUID(), api.identifier, api.name ?? null, api.scopes, api.accessTokenTtl],
    );
    return toApi(rows[0]);
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new ConflictError(`an API with identifier ${api.identifier} already exists`);
    }
    throw error;
  }
}

export async function findApiByIdentifier(db: Queryable, identifier: string): Promise<Api | undefined> {
  if (!isStorableText(identifier)) return undefined;
  const { rows } = await db.query<ApiRow>(`SELECT ${COLUMNS} FROM apis WHERE identifier = $1`, [identifier]);
  return rows[0] && toApi(rows[0]);
}

export async function findApiById(db: Queryable, id: string): Promise<Api | undefined> {
  if (!isUuid(id)) return undefined; // Postgres would reject a malformed uuid with an error
  const { rows } = await db.query<ApiRow>(`SELECT ${COLUMNS} FROM apis WHERE id = $1`, [id]);
  return rows[0] && toApi(rows[0]);
}

/** An admin may name an API by its id or its identifier. */
export async function findApi(db: Queryable, idOrIdentifier: string): Promise<Api | undefined> {
  return (await findApiById(db, idOrIdentifier)) ?? findApiByIdentifier(db, idOrIdentifier);
}

export async function listApis(db: Queryable): Promise<Api[]> {
  const { rows } = await db.query<ApiRow>(`SELECT ${COLUMNS} FROM apis ORDER BY created_at, identifier`);
  return rows.map(toApi);
}

/** Deletes by id or identifier; clients lose their grants on it (ON DELETE CASCADE). */
export async function deleteApi(db: Queryable, idOrIdentifier: string): Promise<Api | undefined> {
  const { rows } = isUuid(idOrIdentifier)
    ? await db.query<ApiRow>(`DELETE FROM apis WHERE id = $1 OR identifier = $2 RETURNING ${COLUMNS}`, [idOrIdentifier, idOrIdentifier])
    : await db.query<ApiRow>(`DELETE FROM apis WHERE identifier = $1 RETURNING ${COLUMNS}`, [idOrIdentifier]);
  return rows[0] && toApi(rows[0]);
}
