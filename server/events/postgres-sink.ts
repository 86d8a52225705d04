// The Postgres sink: events are queued and written in batches (one INSERT
// per batch, every FLUSH_MS or as soon as BATCH_SIZE are waiting), off the
// request path. When Postgres fails the batch is logged and dropped and the
// server carries on: a request never waits for, or fails because of, the
// audit table. The queue is bounded; events past it are dropped and counted
// in a warning line, so a long outage cannot exhaust memory. The JSON-line
// sink still has every event.
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.ts';
import { insertEvents } from './audit-store.ts';
import type { SecurityEvent, SecurityEventSink } from './security-event.ts';

export interface PostgresSinkOptions {
  flushMs?: number;
  batchSize?: number;
  maxQueue?: number;
}

export class PostgresAuditSink implements SecurityEventSink {
  readonly #db: Queryable;
  readonly #logger: Logger;
  readonly #flushMs: number;
  readonly #batchSize: number;
  readonly #maxQueue: number;
  #queue: SecurityEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dropped = 0;
  #closed = false;

  constructor(db: Queryable, logger: Logger, options: PostgresSinkOptions = {}) {
    this.#db = db;
    this.#logger = logger;
    this.#flushMs = options.flushMs ?? 200;
    this.#batchSize = options.batchSize ?? 500;
    this.#maxQueue = options.maxQueue ?? 10_000;
  }

  record(event: SecurityEvent): void {
    if (this.#closed || this.#queue.length >= this.#maxQueue) {
      this.#dropped += 1;
      return;
    }
    this.#queue.push(event);
    if (this.#queue.length >= this.#batchSize) void this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }

  /** Writes everything queued so far; resolves when it is written (or its failure logged). */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // One write at a time, in order: ids follow the order events happened in.
    this.#writing = this.#writing.then(() => this.#writeAll());
    return this.#writing;
  }

  async #writeAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      try {
        await insertEvents(this.#db, batch);
      } catch (error) {
        this.#logger.error({ err: error, events: batch.length }, 'writing audit events to Postgres failed');
        // One by one, so an event Postgres refuses cannot take the rest of its batch with it.
        for (const event of batch) await insertEvents(this.#db, [event]).catch(() => { this.#dropped += 1; });
      }
    }
    if (this.#dropped > 0) {
      this.#logger.warn({ dropped_events: this.#dropped }, 'audit events were not stored in Postgres (still on stdout)');
      this.#dropped = 0;
    }
  }

  /** Shutdown: the queue is written, then later events are refused. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    // What was recorded while that flush ran.
    if (this.#queue.length > 0) await this.flush();
  }
}
