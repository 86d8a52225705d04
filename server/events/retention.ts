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
}

/** Deletes every event older than `retentionSeconds`, `batch` (default 1000) at a time; returns how many went. */
export async function pruneAuditEvents(db: Queryable, retentionSeconds: number, { batch = 1000, now = () => new Date() }: PruneOptions = {}): Promise<number> {
  const olderThan = new Date(now().getTime() - retentionSeconds * 1000);
  let total = 0;
  for (;;) {
    const removed = await pruneBatch(db, olderThan, batch);
    total += removed;
    if (removed < batch) return total;
  }
}

/** Prunes now and every hour; returns the stop function. */
export function startAuditRetention(db: Queryable, retentionSeconds: number, logger: Logger): () => void {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= pruneAuditEvents(db, retentionSeconds)
      .then((removed) => { if (removed) logger.info({ removed_events: removed }, 'audit events past AUDIT_RETENTION deleted'); })
      .catch((error) => logger.error({ err: error }, 'pruning audit events failed'))
      .finally(() => { running = undefined; });
  };
  run();
  const timer = setInterval(run, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
