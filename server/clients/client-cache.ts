// Clients as the token path sees them: cached, dropped on any admin change.
import { LookupCache } from '../cache/lookup-cache.ts';
import type { Queryable } from '../db/database.ts';
import { findClientById } from './client-queries.ts';
import type { Client, ClientLookup } from './types.ts';

export function createClientCache(db: Queryable): ClientLookup & { clear(): void } {
  const cache = new LookupCache<Client>((id) => findClientById(db, id));
  return { findById: (id) => cache.get(id), clear: () => cache.clear() };
}
