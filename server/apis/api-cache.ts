// APIs as the token path sees them: cached, dropped on any admin change.
import { LookupCache } from '../cache/lookup-cache.ts';
import type { Queryable } from '../db/database.ts';
import { findApiByIdentifier } from './api-queries.ts';
import type { Api, ApiLookup } from './types.ts';

export function createApiCache(db: Queryable): ApiLookup & { clear(): void } {
  const cache = new LookupCache<Api>((identifier) => findApiByIdentifier(db, identifier));
  return { findByIdentifier: (identifier) => cache.get(identifier), clear: () => cache.clear() };
}
