// Clients created since the Provider was built, as its Client adapter finds
// them (client-adapter.ts): cached, dropped on any admin change.
import { LookupCache } from '../cache/lookup-cache.ts';
import type { Queryable } from '../db/database.ts';
import { findClientById } from './client-queries.ts';
import type { Client, ClientLookup } from './types.ts';

export function createClientCache(db: Queryable): ClientLookup & { clear(): void } {
  const cache = new LookupCache<Client>((id) => findClientById(db, id));
  return { findById: (id) => cache.get(id), clear: () => cache.clear() };
}
