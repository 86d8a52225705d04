// Errors the stores raise; server/oidc/ maps them to protocol errors.
import { StoreUnavailableError } from '../errors.ts';

/** consume() found the record consumed already: a replayed code or refresh token. */
export class AlreadyConsumedError extends Error {
  override name = 'AlreadyConsumedError';
}

// What ioredis rejects a command with when Redis is down or hung (with the
// fail-fast options of redis-connection.ts and command-timeout.ts): not connected, connection lost
// with the command in flight, or no answer within the command timeout.
/** ioredis' message for a command that got no answer in time (ours, command-timeout.ts, uses it too). */
export const COMMAND_TIMED_OUT = 'Command timed out';
const UNAVAILABLE_MESSAGES = new Set([
  COMMAND_TIMED_OUT,
  'Stream isn\'t writeable and enableOfflineQueue options is false',
  'Connection is closed.',
  'Cluster isn\'t ready and enableOfflineQueue options is false',
]);
const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * Whether `error` says the store is unavailable (down, hung, reconnecting)
 * rather than that a request was wrong: such a request answers 503 and may
 * be retried, never 500. The one list of those errors.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // Postgres' errors of that kind arrive wrapped already (server/db/database.ts).
  if (error instanceof StoreUnavailableError) return true;
  return UNAVAILABLE_NAMES.has(error.name) || UNAVAILABLE_MESSAGES.has(error.message);
}

/** ioredis gave up waiting for an answer (REDIS_COMMAND_TIMEOUT_MS): Redis is hung or far too slow. */
export const isCommandTimeout = (error: unknown): boolean => error instanceof Error && error.message === COMMAND_TIMED_OUT;
