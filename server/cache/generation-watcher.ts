// Servers cache clients, APIs and signing keys so the token path never waits
// on Postgres. Every admin change bumps cache_generation (a trigger, see
// migrations/0001_init.sql); this polls that one row and tells listeners.
import { EventEmitter } from 'node:events';
import type { Queryable } from '../db/database.ts';

export class GenerationWatcher extends EventEmitter<{ change: [generation: string]; error: [Error] }> {
  #db: Queryable;
  #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #generation: string | undefined;
  #checkedAt = 0;

  constructor(db: Queryable, intervalMs: number) {
    super();
    this.#db = db;
    this.#intervalMs = intervalMs;
  }

  async start(): Promise<void> {
    this.#generation = await this.#read();
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Reads the counter now and emits `change` if it moved. */
  async check(): Promise<void> {
    try {
      const generation = await this.#read();
      if (generation !== this.#generation) {
        this.#generation = generation;
        this.emit('change', generation);
      }
    } catch (error) {
      this.emit('error', error as Error);
    }
  }

  /** The generation last read, and when (ms since epoch): the admin cache metrics. */
  get state(): { generation: number; checkedAt: number } | undefined {
    return this.#generation === undefined ? undefined : { generation: Number(this.#generation), checkedAt: this.#checkedAt };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #read(): Promise<string> {
    const { rows } = await this.#db.query<{ generation: string }>('SELECT generation FROM cache_generation WHERE id = 1');
    this.#checkedAt = Date.now();
    return String(rows[0]?.generation ?? '0');
  }
}
