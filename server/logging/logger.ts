// The server's one pino logger. Every line written while a request is being
// handled carries that request's id as `request_id` (its mixin reads the id
// server/http/request-id.ts keeps for the request), so the lines of one
// request are found together and a call site cannot leave the id out.
// Field names are snake_case: `request_id`, `account_id`, `client_id`.
//
// Lines to stdout are written in batches: one write(2) per line (an access
// line per request, at thousands of tokens a second) cost the token path
// ~8 % CPU, most of it the write and the reader's wake-up, not the line;
// each write of a batch still costs tens of µs, so batches are as large as
// sonic-boom allows (below its 16 KiB maxWrite). A line waits at most
// FLUSH_MS (or until BATCH_BYTES are pending); pino flushes what is pending
// when the process exits.
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from '../http/request-id.ts';

const BATCH_BYTES = 12 * 1024;
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

/** Writes one line whose fields are already JSON (`"a":1,"b":"x"`) at `level`. */
export type SerializedLineWriter = (level: 'info' | 'warn', fields: string) => void;

/**
 * For the access log, one line per request: pino's generic serializer (its
 * object walk, mixin and string building) was most of that line's cost on
 * the token path. The line still goes through the logger's level check and
 * destination, with pino's level, time and bindings (pid, hostname), so it
 * reads like every other line. pino.symbols is pino's interface for this kind
 * of integration.
 */
export function serializedLineWriter(logger: Logger): SerializedLineWriter {
  const held = logger as unknown as Record<symbol, unknown>;
  const stream = held[pino.symbols.streamSym] as DestinationStream;
  const bindings = held[pino.symbols.chindingsSym] as string; // ',"pid":…,"hostname":"…"' (and any child bindings)
  return (level, fields) => {
    if (!logger.isLevelEnabled(level)) return;
    stream.write(`{"level":${logger.levels.values[level]},"time":${Date.now()}${bindings},${fields}}\n`);
  };
}
