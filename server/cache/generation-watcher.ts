// Servers cache clients, APIs and signing keys so the token path never waits
// on Postgres. Every admin change bumps cache_generation (a trigger, see
// migrations/0001_init.sql); this polls that one row and, when it moved,
// runs the reload and tells listeners. A failed reload leaves the generation
// unapplied, so the next check runs it again until it succeeds.
import { EventEmitter } from 'node:events';
import type { Queryable } from '../db/database.ts';

export class GenerationWatcher extends EventEmitter<{ change: [generation: string]; checked: []; error: [Error] }> {
  #db: Queryable;
  #intervalMs: number;
  #reload: () => Promise<unknown>;
  #timer: NodeJS.Timeout | undefined;
  #generation: string | undefined;
  #checkedAt = 0;
  #checking = false;

  /** `reload` applies a change (loads everything anew); it runs before `change` is emitted. */
  constructor(db: Queryable, intervalMs: number, reload: () => Promise<unknown> = async () => {}) {
    super();
    this.#db = db;
    this.#intervalMs = intervalMs;
    this.#reload = reload;
  }

  async start(): Promise<void> {
    this.#generation = await this.#read();
    this.#checkedAt = Date.now();
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Reads the counter now and, if it moved, reloads and emits `change` (a hung database never piles up checks). */
  async check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      const generation = await this.#read();
      if (generation !== this.#generation) {
        await this.#reload();
        this.#generation = generation;
        this.emit('change', generation);
      }
      this.#checkedAt = Date.now();
      this.emit('checked');
    } catch (error) {
      this.emit('error', error as Error);
    } finally {
      this.#checking = false;
    }
  }

  /**
   * The generation whose clients, APIs and keys this server serves, and when
   * it last confirmed that is the newest (ms since epoch): the admin cache metrics.
   */
  get state(): { generation: number; checkedAt: number } | undefined {
    return this.#generation === undefined ? undefined : { generation: Number(this.#generation), checkedAt: this.#checkedAt };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #read(): Promise<string> {
    const { rows } = await this.#db.query<{ generation: string }>('SELECT generation FROM cache_generation WHERE id = 1');
    return String(rows[0]?.generation ?? '0');
  }
}
