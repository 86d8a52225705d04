// The per-command timeout of every Redis connection (REDIS_COMMAND_TIMEOUT_MS).
// ioredis has one (`commandTimeout`), but its timer fires in the event loop's
// timers phase, before the poll phase reads the replies that arrived while
// the loop was busy: a process stalled past the timeout (CPU-starved, a long
// GC) would fail commands Redis had answered in time, and answer 503 for a
// healthy Redis. This timer looks once more after the poll phase
// (setImmediate), so only a command still unanswered then fails.
import type { Command } from 'ioredis';
import { COMMAND_TIMED_OUT } from './errors.ts';
import type { RedisClient } from './redis-topology.ts';


function armTimeout(command: Command, ms: number): void {
  if (command.isSettled) return;
  const timer = setTimeout(() => {
    setImmediate(() => {
      if (!command.isSettled) command.reject(new Error(COMMAND_TIMED_OUT));
    });
  }, ms);
  const clear = () => clearTimeout(timer);
  command.promise.then(clear, clear);
}

/**
 * Every command `redis` sends (alone, auto-pipelined or in a MULTI) fails when
 * unanswered after `ms`. A Cluster routes each command through its own
 * sendCommand to a node, so the timer covers it there too.
 */
export function useCommandTimeout<T extends RedisClient>(redis: T, ms: number): T {
  const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
  redis.sendCommand = ((command: Command, ...rest: unknown[]) => {
    armTimeout(command, ms);
    return send(command, ...rest);
  }) as T['sendCommand'];
  return redis;
}
