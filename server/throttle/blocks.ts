// Blocks are Latchkey's own time logic, timed by an injected clock (as in
// Authelia's internal/regulation); rate-limiter-flexible only counts attempts,
// in real time. A key's n-th block since its first one within
// BLOCK_MEMORY_SECONDS lasts blockSeconds(limit, n), then simply ends.
import type { RedisClient } from '../adapters/redis-topology.ts';
import { BLOCK_MEMORY_SECONDS, blockSeconds, type Limit } from './limits.ts';

/** Milliseconds since the epoch (Date.now, or a test's fake clock). */
export type Clock = () => number;

export interface Block {
  /** Blocks of the key since `firstAt`: this one is the count-th. */
  count: number;
  /** When the first of them started (epoch ms). */
  firstAt: number;
  /** When this one ends (epoch ms). */
  until: number;
}

/** The block that starts at `now`, after the key's `previous` one (if any). */
export function nextBlock(limit: Limit, previous: Block | undefined, now: number): Block {
  const remembered = previous !== undefined && now < previous.firstAt + BLOCK_MEMORY_SECONDS * 1000;
  const count = remembered ? previous.count + 1 : 1;
  return { count, firstAt: remembered ? previous.firstAt : now, until: now + blockSeconds(limit, count) * 1000 };
}

/** Whole seconds until `block` ends; 0 once it has (or without one). */
export const secondsLeft = (block: Block | undefined, now: number): number =>
  block && block.until > now ? Math.ceil((block.until - now) / 1000) : 0;

/** A block is kept while it runs and while it still counts towards the next one. */
const keptUntil = (block: Block) => Math.max(block.until, block.firstAt + BLOCK_MEMORY_SECONDS * 1000);

/** The last block of each key. */
export interface BlockStore {
  get(key: string): Promise<Block | undefined>;
  set(key: string, block: Block): Promise<void>;
  delete(key: string): Promise<void>;
}

/** In Redis every process sees the same blocks. */
export function redisBlockStore(redis: RedisClient, prefix: string, clock: Clock): BlockStore {
  return {
    async get(key) {
      const json = await redis.get(prefix + key);
      return json ? (JSON.parse(json) as Block) : undefined;
    },
    async set(key, block) {
      await redis.set(prefix + key, JSON.stringify(block), 'PX', Math.max(1, keptUntil(block) - clock()));
    },
    async delete(key) {
      await redis.del(prefix + key);
    },
  };
}

export function memoryBlockStore(clock: Clock): BlockStore {
  const blocks = new Map<string, Block>();
  return {
    async get(key) {
      const block = blocks.get(key);
      return block && keptUntil(block) > clock() ? block : undefined;
    },
    async set(key, block) {
      // Blocks are rare (one per limit reached), so each new one sweeps out the forgotten.
      const now = clock();
      for (const [k, b] of blocks) if (keptUntil(b) <= now) blocks.delete(k);
      blocks.set(key, block);
    },
    async delete(key) {
      blocks.delete(key);
    },
  };
}
