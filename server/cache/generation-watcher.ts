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
  #retry = false;

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

  #checking = false;

  /** Reads the counter now and emits `change` if it moved (a hung database never piles up checks). */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const generation = await this.#read();
      if (generation !== this.#generation || this.#retry) {
        this.#generation = generation;
        this.#retry = false;
        this.emit('change', generation);
      }
    } catch (error) {
      this.emit('error', error as Error);
    } finally {
      this.#checking = false;
    }
  }

  /** The generation last read, and when (ms since epoch): the admin cache metrics. */
  get state(): { generation: number; checkedAt: number } | undefined {
    return this.#generation === undefined ? undefined : { generation: Number(this.#generation), checkedAt: this.#checkedAt };
  }

  /**
   * The reload after the last change failed: the next check reports a change
   * again, so the reload is retried until it succeeds.
   */
  retry(): void {
    this.#retry = true;
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
