// The accounts refresh, userinfo and introspection read (find-account.ts,
// token-policies.ts), cached in-process so they keep working while Postgres
// is down, and kept coherent across nodes through Redis: every change to an
// account (server or CLI) bumps its version key in Redis after the database
// commit, and every use compares the cached entry's version with Redis'
// (one GET on a path that already talks to Redis). Unlike a pub/sub message,
// that check cannot be missed: a node that was disconnected still sees the
// new version on its next use. The version is read before the row, so a row
// read before a change is always stored under the version before it.
import type { RedisClient } from '../adapters/redis-topology.ts';
import { StoreUnavailableError } from '../errors.ts';
import type { Account, AccountLookup } from './types.ts';

export interface AccountVersions {
  /** The account's version now (null: never changed since Redis has known it). */
  read(id: string): Promise<string | null>;
  /** Announces a change to every node; call after the change is committed. */
  bump(id: string): Promise<void>;
}

// No expiry: a key that vanished would read null again, the version an entry
// cached before the first change may hold. (Keep Redis from evicting it: a
// `noeviction` or `volatile-*` maxmemory policy, as for the sessions.)
export function redisAccountVersions(redis: RedisClient, keyPrefix: string): AccountVersions {
  const key = (id: string) => `${keyPrefix}account-version:${id}`;
  return {
    read: (id) => redis.get(key(id)),
    bump: async (id) => { await redis.incr(key(id)); },
  };
}

interface Entry { account: Account; version: string | null; loadedAt: number }

export interface AccountCacheOptions {
  /** How long an entry is used without reading Postgres again, ms. */
  ttlMs: number;
  /** Entries kept at most; the least recently used go first. */
  maxEntries?: number;
  now?: () => number;
}

export function createAccountCache(accounts: AccountLookup, versions: AccountVersions, options: AccountCacheOptions): AccountLookup {
  const { ttlMs, maxEntries = 10_000, now = Date.now } = options;
  const entries = new Map<string, Entry>();
  const remember = (id: string, entry: Entry) => {
    entries.delete(id); // re-inserted last: the Map's order is the recency order
    entries.set(id, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
  };
  return {
    async findById(id) {
      // Redis down: the token path fails on its grants anyway; no stale answer is safe without the version.
      const version = await versions.read(id);
      const entry = entries.get(id);
      const current = entry !== undefined && entry.version === version;
      if (current && now() - entry.loadedAt < ttlMs) {
        remember(id, entry);
        return entry.account;
      }
      let account: Account | undefined;
      try {
        account = await accounts.findById(id);
      } catch (error) {
        // Postgres down or hung: Redis says the account has not changed since
        // it was read, so the entry is still what Postgres holds.
        if (current && error instanceof StoreUnavailableError) {
          remember(id, entry);
          return entry.account;
        }
        throw error;
      }
      if (account) remember(id, { account, version, loadedAt: now() });
      else entries.delete(id);
      return account;
    },
  };
}
