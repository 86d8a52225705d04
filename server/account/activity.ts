// "Recent security activity" on /account: the account's own audit events
// (sign-ins, refused second steps, factor, device and password changes) in
// words, with the browser, the IP and how long ago.
import { hasString, t, tn, type StringKey } from '../../views/strings.ts';
import type { StoredEvent } from '../events/audit-store.ts';
import type { SecurityEventType } from '../events/security-event.ts';
import { deviceLabel } from '../mfa/trusted-devices/trusted-devices.ts';

/** The event types the page lists. */
export const ACTIVITY_TYPES = [
  'sign_in.succeeded', 'second_factor.refused', 'factor.added', 'factor.removed', 'recovery_code.used',
  'recovery_codes.regenerated', 'password.changed', 'trusted_device.added', 'trusted_device.forgotten',
] as const satisfies readonly SecurityEventType[];

export interface ActivityItem {
  what: string;
  /** How: the sign-in method, the factor kind. */
  how?: string;
  /** "Chrome on Linux, 203.0.113.9". */
  from: string;
  /** ISO 8601, UTC (the page's datetime and title). */
  time: string;
  /** "2 hours ago". */
  ago: string;
  failure: boolean;
}

export function ago(then: Date, now: Date): string {
  const minutes = Math.floor((now.getTime() - then.getTime()) / 60_000);
  if (minutes < 1) return t('activity.justNow');
  if (minutes < 60) return tn('activity.minutesAgo', minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return tn('activity.hoursAgo', hours);
  return tn('activity.daysAgo', Math.floor(hours / 24));
}

const word = (key: string): string | undefined => (hasString(key) ? t(key as StringKey) : undefined);

export function toActivity(event: StoredEvent, now = new Date()): ActivityItem {
  const kind = event.details?.kind;
  const how = event.method ? word(`activity.method.${event.method}`) : typeof kind === 'string' ? word(`activity.kind.${kind}`) : undefined;
  return {
    what: word(`activity.${event.type}`) ?? event.type,
    how,
    from: t('activity.from', { browser: deviceLabel(event.user_agent), ip: event.ip ?? '?' }),
    time: event.time,
    ago: ago(new Date(event.time), now),
    failure: event.outcome === 'failure',
  };
}
