// In-process store for oidc-provider models, for development and single-process
// deployments without REDIS_URL. Same behaviour as the Redis adapter: payloads are
// kept as JSON (callers never share objects with the store), expire after
// expiresIn, and tokens are indexed by grant for revokeByGrantId.
import type { AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from './errors.ts';
import type { Adapter } from './index.ts';
import { GRANTABLE_MODELS } from './models.ts';

interface Entry {
  json: string;
  expiresAt: number; // epoch ms; Infinity when stored without expiresIn
  consumed?: number;
  pointers: string[]; // uid/userCode index keys naming this entry
  grantId?: string;
}

export interface MemoryStoreOptions {
  /** Most records kept; past it the oldest written are dropped. */
  maxEntries?: number;
  /** How often a write also sweeps out every expired record. */
  sweepIntervalMs?: number;
}

/**
 * Records plus two indexes that only ever name live records: removing a record
 * (destroy, expiry, eviction) removes its index entries too, so a grant index can
 * never lose track of a token that still exists, and memory is bounded by maxEntries.
 */
export class MemoryStore {
  readonly #records = new Map<string, Entry>(); // insertion order = eviction order
  readonly #pointers = new Map<string, string>(); // `${model}:uid:${uid}` -> record key
  readonly #grants = new Map<string, Set<string>>(); // grantId -> record keys
  readonly #maxEntries: number;
  readonly #sweepIntervalMs: number;
  #nextSweep: number;

  constructor({ maxEntries = 100_000, sweepIntervalMs = 60_000 }: MemoryStoreOptions = {}) {
    this.#maxEntries = maxEntries;
    this.#sweepIntervalMs = sweepIntervalMs;
    this.#nextSweep = Date.now() + sweepIntervalMs;
  }

  get counts(): { records: number; pointers: number; grants: number } {
    return { records: this.#records.size, pointers: this.#pointers.size, grants: this.#grants.size };
  }

  get(key: string): Entry | undefined {
    const entry = this.#records.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.delete(key); // lazy expiry
      return undefined;
    }
    return entry;
  }

  getByPointer(pointer: string): Entry | undefined {
    const key = this.#pointers.get(pointer);
    return key === undefined ? undefined : this.get(key);
  }

  set(key: string, entry: Entry): void {
    // Delete first so a rewrite moves to the back of the eviction order and drops stale index entries.
    this.delete(key);
    this.#records.set(key, entry);
    for (const pointer of entry.pointers) this.#pointers.set(pointer, key);
    if (entry.grantId !== undefined) {
      let members = this.#grants.get(entry.grantId);
      if (!members) this.#grants.set(entry.grantId, (members = new Set()));
      members.add(key);
    }
    // Sweeping on writes (the only way memory grows) needs no timer to keep alive or stop.
    const now = Date.now();
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + this.#sweepIntervalMs;
      this.sweep();
    }
    while (this.#records.size > this.#maxEntries) this.delete(this.#records.keys().next().value!);
  }

  delete(key: string): void {
    const entry = this.#records.get(key);
    if (!entry) return;
    this.#records.delete(key);
    // A pointer may already name a newer record (a regenerated session keeps its uid).
    for (const pointer of entry.pointers) if (this.#pointers.get(pointer) === key) this.#pointers.delete(pointer);
    if (entry.grantId !== undefined) {
      const members = this.#grants.get(entry.grantId);
      members?.delete(key);
      if (members?.size === 0) this.#grants.delete(entry.grantId);
    }
  }

  revokeGrant(grantId: string): void {
    for (const key of this.#grants.get(grantId) ?? []) this.delete(key);
  }

  sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#records) if (entry.expiresAt <= now) this.delete(key);
  }
}

function output(entry: Entry | undefined): AdapterPayload | undefined {
  if (!entry) return undefined;
  const payload = JSON.parse(entry.json) as AdapterPayload;
  return entry.consumed ? { ...payload, consumed: entry.consumed } : payload;
}

/** The factory owns the store, so every Provider built with it shares state. */
export function createMemoryAdapterFactory(store = new MemoryStore()): (name: string) => Adapter {
  return (model) => {
    const key = (id: string) => `${model}:${id}`;
    const write = (id: string, payload: AdapterPayload, expiresIn?: number) => {
      const pointers = [];
      if (payload.uid) pointers.push(`${model}:uid:${payload.uid}`);
      if (payload.userCode) pointers.push(`${model}:userCode:${payload.userCode}`);
      store.set(key(id), {
        json: JSON.stringify(payload),
        expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000,
        pointers,
        grantId: GRANTABLE_MODELS.has(model) ? payload.grantId : undefined,
      });
    };
    return {
      async upsert(id, payload, expiresIn) {
        write(id, payload, expiresIn);
      },
      async insertIfAbsent(id, payload, expiresIn) {
        if (store.get(key(id))) return false;
        write(id, payload, expiresIn);
        return true;
      },
      async find(id) {
        return output(store.get(key(id)));
      },
      async findByUid(uid) {
        return output(store.getByPointer(`${model}:uid:${uid}`));
      },
      async findByUserCode(userCode) {
        return output(store.getByPointer(`${model}:userCode:${userCode}`));
      },
      async consume(id) {
        // Synchronous from get to write: no other request interleaves.
        const entry = store.get(key(id));
        // Gone since the caller read it: a racing replay revoked it.
        if (!entry) throw new AlreadyConsumedError(`${model} already consumed or revoked`);
        if (!entry.consumed) {
          entry.consumed = Math.floor(Date.now() / 1000);
          return;
        }
        const { grantId } = JSON.parse(entry.json) as AdapterPayload;
        if (grantId) {
          store.revokeGrant(grantId);
          store.delete(`Grant:${grantId}`);
        }
        throw new AlreadyConsumedError(`${model} already consumed`);
      },
      async destroy(id) {
        store.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        store.revokeGrant(grantId);
      },
    };
  };
}
