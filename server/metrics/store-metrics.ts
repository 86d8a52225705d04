// Postgres and Redis call latency and errors. Both wrap the one handle the
// process shares (server/assemble.ts), so every store is measured without knowing
// it, and the cost is two clock reads and one promise callback a call.
import type { Redis } from 'ioredis';
import type { RedisClient } from '../adapters/redis-topology.ts';
import type { Database } from '../db/database.ts';
import type { HistogramCell } from './cells.ts';
import type { LatchkeyMetrics } from './registry.ts';

/** The same Database, its query() and transaction() timed and their failures counted. */
export function instrumentDatabase(db: Database, metrics: LatchkeyMetrics): Database {
  const timed = <T>(operation: 'query' | 'transaction', call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const done = () => metrics.postgresDuration.labels(operation).observe((performance.now() - started) / 1000);
    return call().then(
      (result) => { done(); return result; },
      (error: unknown) => { done(); metrics.postgresErrors.labels(operation).inc(); throw error; },
    );
  };
  return {
    query: (sql, params) => timed('query', () => db.query(sql, params)),
    transaction: (fn) => timed('transaction', () => db.transaction(fn)),
    close: () => db.close(),
  };
}

// ioredis only sends the commands it knows, and Latchkey uses a handful; the
// cap keeps a bug from turning the label into an unbounded one.
const MAX_COMMANDS = 64;
// A command can pass through sendCommand more than once (offline queue, resend
// after a reconnect): it is timed from its first pass to its reply.
const TIMED = Symbol('latchkey.timed');
type Command = Parameters<Redis['sendCommand']>[0] & { [TIMED]?: true };

/** Times every command sent on this connection, from the first send to its reply. */
export function instrumentRedis(redis: RedisClient, metrics: LatchkeyMetrics): void {
  const children = new Map<string, { duration: HistogramCell; errors: ReturnType<LatchkeyMetrics['redisErrors']['labels']> }>();
  const childrenFor = (name: string) => {
    let found = children.get(name);
    if (!found) {
      const label = children.size < MAX_COMMANDS ? name : 'other';
      found = { duration: metrics.redisDuration.cell(label), errors: metrics.redisErrors.labels(label) };
      if (label !== 'other') children.set(name, found);
    }
    return found;
  };
  // A Cluster passes each command through its own sendCommand first (then a node's): timed there.
  const client = redis as Redis;
  const send = client.sendCommand;
  client.sendCommand = function sendCommand(this: Redis, command: Command, ...rest: unknown[]) {
    if (!command[TIMED]) {
      command[TIMED] = true;
      const started = performance.now();
      const { duration, errors } = childrenFor(command.name);
      command.promise.then(
        () => duration.observe((performance.now() - started) / 1000),
        () => { duration.observe((performance.now() - started) / 1000); errors.inc(); },
      );
    }
    return (send as (...args: unknown[]) => unknown).call(this, command, ...rest) as ReturnType<Redis['sendCommand']>;
  };
}
