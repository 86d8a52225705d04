// The server's one pino logger. Every line written while a request is being
// handled carries that request's id as `request_id` (its mixin reads the id
// server/http/request-id.ts keeps for the request), so the lines of one
// request are found together and a call site cannot leave the id out.
// Field names are snake_case: `request_id`, `account_id`, `client_id`.
//
// Lines to stdout are written in batches: one write(2) per line (an access
// line per request, at thousands of tokens a second) cost the token path
// ~8 % CPU, most of it the write and the reader's wake-up, not the line.
// A line waits at most FLUSH_MS (or until 4 KiB are pending); pino flushes
// what is pending when the process exits.
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from '../http/request-id.ts';

const BATCH_BYTES = 4096;
const FLUSH_MS = 100;

/** stdout, batched (see above); the timer does not keep the process alive. */
function batchedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
  setInterval(() => {
    // Nothing pending: no empty write.
    if ((stream as unknown as { _len: number })._len > 0) stream.flush();
  }, FLUSH_MS).unref();
  return stream;
}

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
  return pino(options, destination ?? batchedStdout());
}
