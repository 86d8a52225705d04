// A read-through cache for admin-managed rows (clients, APIs), emptied once
// the rebuild after an admin change has loaded the new rows (or replaced
// with them). Misses are cached too, so a flood
// of unknown client_ids cannot hammer the database; the map is bounded.
export class LookupCache<V> {
  #entries = new Map<string, Promise<V | undefined>>();
  #load: (key: string) => Promise<V | undefined>;
  #maxEntries: number;

  constructor(load: (key: string) => Promise<V | undefined>, maxEntries = 10_000) {
    this.#load = load;
    this.#maxEntries = maxEntries;
  }

  get(key: string): Promise<V | undefined> {
    let entry = this.#entries.get(key);
    if (!entry) {
      if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
      entry = this.#load(key);
      this.#entries.set(key, entry);
      // A failed load must not stick: the next request tries the database again.
      entry.catch(() => this.#entries.delete(key));
    }
    return entry;
  }

  clear(): void {
    this.#entries.clear();
  }
}
