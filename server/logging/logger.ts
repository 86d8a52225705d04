// The server's one pino logger. Every line written while a request is being
// handled carries that request's id as `request_id` (its mixin reads the id
// server/http/request-id.ts keeps for the request), so the lines of one
// request are found together and a call site cannot leave the id out.
// Field names are snake_case: `request_id`, `account_id`, `client_id`.
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from '../http/request-id.ts';

/** `destination`: stdout unless given (tests capture lines). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    // Runs only for lines that pass the level check. A new object each time: pino merges the line's fields into it.
    mixin() {
      const id = currentRequestId();
      return id === undefined ? {} : { request_id: id };
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
