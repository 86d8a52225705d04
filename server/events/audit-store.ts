// audit_events (migrations/0007_audit_events.sql): writing a batch, reading
// with the CLI's filters, an account's recent activity, and the retention prune.
import type { Queryable } from '../db/database.ts';
import type { Actor, SecurityEvent } from './security-event.ts';

/** A stored event: the schema-1 event plus its row id (increasing: `audit tail` follows it). */
export interface StoredEvent extends SecurityEvent {
  id: number;
}

const COLUMNS = 'time, schema, type, actor_kind, actor_id, actor_host, subject, client_id, ip, user_agent, request_id, outcome, reason, method, details';

/** One INSERT for the whole batch: the events travel as one JSON parameter. */
export async function insertEvents(db: Queryable, events: readonly SecurityEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    time: e.time,
    schema: e.schema,
    type: e.type,
    actor_kind: e.actor.kind,
    actor_id: 'id' in e.actor ? e.actor.id : null,
    actor_host: e.actor.kind === 'admin' ? e.actor.host : null,
    subject: e.subject ?? null,
    client_id: e.client_id ?? null,
    // Postgres text and jsonb cannot hold NUL; a header, id or detail carrying one is cleaned, not refused.
    ip: clean(e.ip),
    user_agent: clean(e.user_agent),
    request_id: clean(e.request_id),
    outcome: e.outcome,
    reason: e.reason ?? null,
    method: e.method ?? null,
    details: e.details ? Object.fromEntries(Object.entries(e.details).map(([key, value]) => [key.replaceAll('\u0000', ''), typeof value === 'string' ? value.replaceAll('\u0000', '') : value])) : null,
  }));
  await db.query(
    `INSERT INTO audit_events (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS e(
       time timestamptz, schema integer, type text, actor_kind text, actor_id text, actor_host text, subject text,
       client_id text, ip text, user_agent text, request_id text, outcome text, reason text, method text, details jsonb)`,
    [JSON.stringify(rows)],
  );
}

const clean = (value: string | undefined): string | null => (value === undefined ? null : value.replaceAll('\u0000', ''));

interface Row {
  id: string;
  time: Date;
  schema: number;
  type: SecurityEvent['type'];
  actor_kind: Actor['kind'];
  actor_id: string | null;
  actor_host: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  outcome: SecurityEvent['outcome'];
  reason: string | null;
  method: SecurityEvent['method'] | null;
  details: SecurityEvent['details'] | null;
}

function actorOf(row: Row): Actor {
  if (row.actor_kind === 'admin') return { kind: 'admin', id: row.actor_id ?? '', host: row.actor_host ?? '' };
  if (row.actor_kind === 'account' || row.actor_kind === 'client') return { kind: row.actor_kind, id: row.actor_id ?? '' };
  return { kind: 'anonymous' };
}

/** Back to the schema-1 shape; absent fields stay absent. */
function toEvent(row: Row): StoredEvent {
  const event: StoredEvent = {
    id: Number(row.id),
    schema: row.schema as 1,
    type: row.type,
    time: row.time.toISOString(),
    actor: actorOf(row),
    outcome: row.outcome,
  };
  const optional = { subject: row.subject, client_id: row.client_id, ip: row.ip, user_agent: row.user_agent, request_id: row.request_id, reason: row.reason, method: row.method, details: row.details };
  for (const [key, value] of Object.entries(optional)) if (value !== null) Object.assign(event, { [key]: value });
  return event;
}

export interface EventFilter {
  /** The event is about this account (subject) or was done by it (actor). */
  account?: string;
  client?: string;
  /** An exact type, or a prefix ending in '.' (`sign_in.`). */
  type?: string;
  since?: Date;
  /** Only events with a larger id (`audit tail`). */
  afterId?: number;
  limit?: number;
}

/**
 * Events matching every given filter: the newest `limit` (default 100), oldest
 * first; with `afterId`, the oldest `limit` after it (so a tail never skips any).
 */
export async function listEvents(db: Queryable, filter: EventFilter = {}): Promise<StoredEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (filter.account) {
    const p = param(filter.account);
    where.push(`(subject = ${p} OR (actor_kind = 'account' AND actor_id = ${p}))`);
  }
  if (filter.client) where.push(`client_id = ${param(filter.client)}`);
  if (filter.type) where.push(filter.type.endsWith('.') ? `starts_with(type, ${param(filter.type)})` : `type = ${param(filter.type)}`);
  if (filter.since) where.push(`time >= ${param(filter.since)}`);
  if (filter.afterId !== undefined) where.push(`id > ${param(filter.afterId)}`);
  const limit = param(Math.max(1, Math.min(filter.limit ?? 100, 10_000)));
  const conditions = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const sql = filter.afterId !== undefined
    ? `SELECT * FROM audit_events ${conditions} ORDER BY id LIMIT ${limit}`
    : `SELECT * FROM (SELECT * FROM audit_events ${conditions} ORDER BY id DESC LIMIT ${limit}) newest ORDER BY id`;
  const { rows } = await db.query<Row>(sql, params);
  return rows.map(toEvent);
}

/** The largest id so far (0 when empty): where `audit tail` starts. */
export async function lastEventId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: string | null }>('SELECT max(id) AS id FROM audit_events');
  return Number(rows[0]?.id ?? 0);
}

/** What /account shows its user: the newest `limit` events about the account, newest first. */
export async function recentAccountActivity(db: Queryable, accountId: string, types: readonly string[], limit = 20): Promise<StoredEvent[]> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM audit_events WHERE subject = $1 AND type = ANY($2::text[]) ORDER BY id DESC LIMIT $3',
    [accountId, types, limit],
  );
  return rows.map(toEvent);
}

/** Deletes up to `batch` events older than `olderThan` (the audit_prune function); returns how many. */
export async function pruneBatch(db: Queryable, olderThan: Date, batch: number): Promise<number> {
  const { rows } = await db.query<{ removed: number }>('SELECT audit_prune($1, $2) AS removed', [olderThan, batch]);
  return rows[0]?.removed ?? 0;
}
