// Every change made with the CLI is an admin.changed audit event: who ran it
// (the OS user and host), the command, and what it changed. The CLI writes it
// to audit_events itself (no server needs to be running). Commands that only
// read are not recorded.
import { hostname, userInfo } from 'node:os';
import type { Queryable } from '../db/database.ts';
import { insertEvents } from '../events/audit-store.ts';
import type { SecurityEvent } from '../events/security-event.ts';

const READ_ONLY = new Set(['list', 'show', 'tail']);

/** "users disable", "migrate": the command's name under the program. */
export function commandPath(command: { name(): string; parent: { name(): string; parent: unknown } | null }): string {
  const names: string[] = [];
  for (let c: typeof command | null = command; c && c.parent; c = c.parent as typeof command | null) names.unshift(c.name());
  return names.join(' ');
}

export const isChange = (path: string): boolean => !READ_ONLY.has(path.split(' ').at(-1) ?? '');

/** The OS user running the CLI (a container without a passwd entry has only a uid). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

/** What the change was about, from the command's JSON answer (an id, client_id, identifier or kid) or its first argument. */
function subjectOf(json: Record<string, unknown>, args: string[]): string | undefined {
  for (const key of ['id', 'client_id', 'identifier', 'kid']) if (typeof json[key] === 'string') return json[key] as string;
  return args[0];
}

export function adminChangeEvent(path: string, args: string[], json: Record<string, unknown>, now = new Date()): SecurityEvent {
  const subject = subjectOf(json, args);
  const clientId = path.startsWith('clients ') && typeof json.client_id === 'string' ? json.client_id : undefined;
  return {
    schema: 1,
    type: 'admin.changed',
    time: now.toISOString(),
    actor: { kind: 'admin', id: osUser(), host: hostname() },
    ...(subject ? { subject } : {}),
    ...(clientId ? { client_id: clientId } : {}),
    outcome: 'success',
    details: { command: path },
  };
}

export const recordAdminChange = (db: Queryable, event: SecurityEvent): Promise<void> => insertEvents(db, [event]);
