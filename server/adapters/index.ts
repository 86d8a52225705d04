// Storage for oidc-provider models (sessions, interactions, grants, tokens, ...):
// Redis when configured, else an in-process store. Client is not served from here
// in practice: the server answers Client lookups from Postgres.
import type { RedisClient } from './redis-topology.ts';
import type { AdapterPayload } from 'oidc-provider';
export { AlreadyConsumedError } from './errors.ts';
import { BEARER_MODELS, withHashedIds } from './hashed-ids.ts';
import { createMemoryAdapterFactory } from './memory.ts';
import { createRedisAdapterFactory } from './redis.ts';

/** oidc-provider's adapter contract; `expiresIn` is in seconds. */
export interface Adapter {
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  /**
   * Marks a record consumed, atomically. If it already was (two requests
   * racing with one code or refresh token), revokes its whole grant (tokens
   * and Grant record) and throws AlreadyConsumedError; also throws when the
   * record no longer exists.
   */
  consume(id: string): Promise<void>;
  /** Stores the record only if the id is new; false when it existed (replay detection). */
  insertIfAbsent(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export type AdapterFactory = (name: string) => Adapter;

/**
 * Call once per process and hand the result to every Provider instance: the
 * server rebuilds Providers at key rotation and they must share one store.
 */
export function createAdapterFactory(options: { redis?: RedisClient; keyPrefix: string }): AdapterFactory {
  const create = options.redis
    ? createRedisAdapterFactory(options.redis, options.keyPrefix)
    : createMemoryAdapterFactory();
  // Adapters are stateless views on the store, so one per model is enough.
  const cache = new Map<string, Adapter>();
  return (name) => {
    let adapter = cache.get(name);
    if (!adapter) {
      adapter = BEARER_MODELS.has(name) ? withHashedIds(create(name)) : create(name);
      cache.set(name, adapter);
    }
    return adapter;
  };
}
