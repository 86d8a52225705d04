// AUDIT_RETENTION: events older than it are deleted, in batches (one short
// statement each, so the table is never locked for long), at start-up and
// every hour. Deleting goes through audit_prune() (the migration's append-only
// trigger refuses any other DELETE), which never removes events younger than a day.
import type { Logger } from 'pino';
import type { Queryable } from '../db/database.ts';
import { pruneBatch } from './audit-store.ts';

const PRUNE_EVERY_MS = 3600_000;

export interface PruneOptions {
  batch?: number;
  now?: () => Date;
  /** Checked between batches: true ends the prune early (shutdown). */
  stopped?: () => boolean;
}

/** Deletes every event older than `retentionSeconds`, `batch` (default 1000) at a time; returns how many went. */
export async function pruneAuditEvents(db: Queryable, retentionSeconds: number, { batch = 1000, now = () => new Date(), stopped = () => false }: PruneOptions = {}): Promise<number> {
  const olderThan = new Date(now().getTime() - retentionSeconds * 1000);
  let total = 0;
  for (;;) {
    const removed = await pruneBatch(db, olderThan, batch);
    total += removed;
    if (removed < batch || stopped()) return total;
  }
}

/** Prunes now and every hour; returns the stop function, which resolves once a prune under way has ended (after its current batch). */
export function startAuditRetention(db: Queryable, retentionSeconds: number, logger: Logger): () => Promise<void> {
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    running ??= pruneAuditEvents(db, retentionSeconds, { stopped: () => stopped })
      .then((removed) => { if (removed) logger.info({ removed_events: removed }, 'audit events past AUDIT_RETENTION deleted'); })
      .catch((error) => logger.error({ err: error }, 'pruning audit events failed'))
      .finally(() => { running = undefined; });
  };
  run();
  const timer = setInterval(run, PRUNE_EVERY_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}
