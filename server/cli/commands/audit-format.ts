// How `audit list` and `audit tail` show events: a table row per event, or
// the schema-1 event itself as JSON (with its row id).
import type { Command } from 'commander';
import type { StoredEvent } from '../../events/audit-store.ts';
import type { Actor } from '../../events/security-event.ts';
import { UserError } from '../../errors.ts';
import { parseDuration } from '../../config/duration.ts';
import type { EventFilter } from '../../events/audit-store.ts';
import type { Options } from './common.ts';

export const EVENT_HEADERS = ['ID', 'TIME', 'TYPE', 'OUTCOME', 'ACTOR', 'SUBJECT', 'CLIENT', 'IP', 'DETAIL'];

export function actorText(actor: Actor): string {
  switch (actor.kind) {
    case 'admin':
      return `admin:${actor.id}@${actor.host}`;
    case 'anonymous':
      return 'anonymous';
    default:
      return `${actor.kind}:${actor.id}`;
  }
}

/** The reason, method and details in one cell. */
function detailText(e: StoredEvent): string {
  const parts = [e.reason && `reason=${e.reason}`, e.method && `method=${e.method}`, ...Object.entries(e.details ?? {}).map(([k, v]) => `${k}=${v}`)];
  return parts.filter(Boolean).join(' ') || '-';
}

export const eventRow = (e: StoredEvent): string[] => [
  String(e.id), e.time, e.type, e.outcome, actorText(e.actor), e.subject ?? '-', e.client_id ?? '-', e.ip ?? '-', detailText(e),
];

/** --since: an ISO 8601 time, or a duration back from now (90m, 24h, 7d). */
export function parseSince(value: string, now = new Date()): Date {
  if (/^\d+\s*[smhd]?$/.test(value.trim())) return new Date(now.getTime() - parseDuration(value) * 1000);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UserError(`--since "${value}" is neither a time (2025-01-31T12:00:00Z) nor a duration (24h, 7d)`);
  return date;
}

/** The filters both commands take. */
export const filterOf = (options: Options): EventFilter => ({
  account: options.account,
  client: options.client,
  type: options.type,
  since: options.since === undefined ? undefined : parseSince(options.since),
});

/** The filter options `audit list` and `audit tail` share (read back by filterOf). */
export function withFilterOptions(command: Command): Command {
  return command
    .option('--account <id>', 'events about or by this account id')
    .option('--client <id>', 'events of this client_id')
    .option('--type <type>', 'one event type (sign_in.failed), or every type under a prefix ending in a dot (sign_in.)')
    .option('--since <when>', 'events from this time on (ISO 8601) or this long ago (24h, 7d)');
}
