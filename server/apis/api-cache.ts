// APIs as the token path sees them: a snapshot of the whole table, replaced
// whole by the Provider's rebuild after an admin change (provider-host.ts),
// so a token request for a known API never waits on Postgres. An identifier
// the snapshot lacks (an API created since) is looked up, cached, misses too.
import { LookupCache } from '../cache/lookup-cache.ts';
import type { Queryable } from '../db/database.ts';
import { findApiByIdentifier } from './api-queries.ts';
import type { Api, ApiLookup } from './types.ts';

export interface ApiSnapshot extends ApiLookup {
  /** Serves `apis` from now on, and forgets the looked-up ones. */
  replace(apis: Api[]): void;
}

export function createApiCache(db: Queryable): ApiSnapshot {
  let known = new Map<string, Api>();
  const newer = new LookupCache<Api>((identifier) => findApiByIdentifier(db, identifier));
  return {
    findByIdentifier: (identifier) => {
      const api = known.get(identifier);
      return api ? Promise.resolve(api) : newer.get(identifier);
    },
    replace(apis) {
      known = new Map(apis.map((api) => [api.identifier, api]));
      newer.clear();
    },
  };
}
