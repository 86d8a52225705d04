// The JSON-line sink: every security event is one stdout line, through the
// server's pino logger, with a fixed `audit: true` field and the event under
// `event` (pino's own `time`, `level` and `msg` stay beside it, never mixed
// in). A log shipper keeps the lines with `audit == true` and reads `.event`.
// The line is written at info whatever LOG_LEVEL says (only `silent` mutes
// it): raising the log level to cut noise must not cut the audit trail.
import type { Logger } from 'pino';
import type { SecurityEvent, SecurityEventSink } from './security-event.ts';

export function logSink(logger: Logger): SecurityEventSink {
  const audit = logger.child({ audit: true }, { level: logger.level === 'silent' ? 'silent' : 'info' });
  return {
    record(event: SecurityEvent) {
      audit.info({ event }, event.type);
    },
  };
}
