// Redis store for oidc-provider models, after the Redis example oidc-provider used
// to ship (example/adapters/redis.js): one JSON value per record with the model's
// TTL, `uid:`/`userCode:` pointer keys with the same TTL, and a per-grant sorted
// set of the grant's token keys (scored by their expiry) that lives as long as
// its longest-lived member. Needs Redis >= 7 (EXPIRE NX/GT).
//
// Redis Cluster: every script and MULTI here touches the keys of one hash slot.
// A token is found by its own id, so its key cannot share its grant's slot;
// the grant set and the Grant record do (grantSetKey), and a grant's tokens
// are deleted one by one after the set is taken atomically. A token written
// while its grant is being revoked can outlive the revocation; where the
// revocation removes the Grant record too (a replayed code or refresh token),
// oidc-provider refuses such a token, as refresh, introspection and userinfo
// all look its grant up.
import { createHash } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from './errors.ts';
import type { Adapter } from './index.ts';
import { GRANTABLE_MODELS } from './models.ts';
import type { RedisClient } from './redis-topology.ts';

// consume() adds a field beside the payload, so these models are stored as a hash
// {payload, consumed}. (Rewriting the JSON in Lua would round-trip it through cjson,
// which turns [] into {} and rounds big numbers.)
const consumable = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PushedAuthorizationRequest',
  'PreAuthorizedCode',
]);

/**
 * The set of a grant's token keys. Its hash tag is the Grant record's whole key,
 * so on a Redis Cluster both are in one slot (a key without braces hashes in full)
 * and one MULTI takes the set and the record together.
 */
export const grantSetKey = (keyPrefix: string, grantId: string): string => `${keyPrefix}grant:{${keyPrefix}Grant:${grantId}}`;

// Test-and-set on the record alone, atomically: {1, grantId} = consumed now;
// {-1, grantId} = consumed already, i.e. requests raced with one code or
// refresh token (the caller then revokes the grant, as oidc-provider does for a
// sequential replay); 0 = the record is gone: the caller read it moments ago,
// so a racing replay revoked it; also a refusal.
const CONSUME = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local grantId = ''
local ok, payload = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'payload') or '')
if ok and type(payload) == 'table' and type(payload.grantId) == 'string' then grantId = payload.grantId end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return {1, grantId} end
return {-1, grantId}`);

// A pointer is only dropped while it still names this record: a regenerated session keeps its uid.
const DROP_POINTER = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end`);

const REVOCATION_RETRIES = 3;

export function createRedisAdapterFactory(redis: RedisClient, keyPrefix: string): (name: string) => Adapter {
  const grantKey = (grantId: string) => grantSetKey(keyPrefix, grantId);
  const uidKey = (uid: string) => `${keyPrefix}uid:${uid}`;
  const userCodeKey = (userCode: string) => `${keyPrefix}userCode:${userCode}`;

  /** Deletes the grant's tokens and set (and its Grant record when asked). */
  async function revokeGrant(grantId: string, withRecord: boolean): Promise<void> {
    const taken = redis.multi().zrange(grantKey(grantId), '0', '-1').del(grantKey(grantId));
    if (withRecord) taken.del(`${keyPrefix}Grant:${grantId}`);
    const [members] = await exec(taken);
    // Sets written before the sorted sets (a plain SET under `grant:<id>`): still
    // honoured until they expire with their tokens (REFRESH_TOKEN_ABSOLUTE_TTL).
    const legacy = `${keyPrefix}grant:${grantId}`;
    const [legacyMembers] = await exec(redis.multi().smembers(legacy).del(legacy));
    const keys = [...(members as string[] | undefined ?? []), ...(legacyMembers as string[] | undefined ?? [])];
    // One DEL each: on a cluster the tokens are spread over every slot.
    await Promise.all(keys.map((key) => redis.del(key)));
  }

  /** A replay's revocation that Redis failed: tried again after 1, 2 and 4 s (Redis recovering from a blip). */
  function retryRevocation(grantId: string, attempt = 0): void {
    if (attempt >= REVOCATION_RETRIES) return;
    setTimeout(() => {
      revokeGrant(grantId, true).catch(() => retryRevocation(grantId, attempt + 1));
    }, 1_000 * 2 ** attempt).unref();
  }

  return (model) => {
    const key = (id: string) => `${keyPrefix}${model}:${id}`;
    const isConsumable = consumable.has(model);
    const isGrantable = GRANTABLE_MODELS.has(model);
    const pointerKeys = (payload: AdapterPayload) => [
      ...(payload.uid ? [uidKey(payload.uid)] : []),
      ...(payload.userCode ? [userCodeKey(payload.userCode)] : []),
    ];

    const adapter: Adapter = {
      async upsert(id, payload, expiresIn) {
        const json = JSON.stringify(payload);
        // EX takes whole positive seconds; oidc-provider checks `exp` itself anyway.
        const ttl = expiresIn === undefined ? undefined : Math.max(1, Math.ceil(expiresIn));
        const pointers = pointerKeys(payload);
        const grant = isGrantable && payload.grantId ? grantKey(payload.grantId) : undefined;

        // Hot path (client_credentials tokens, interactions, grants): a single SET.
        if (!isConsumable && !grant && pointers.length === 0) {
          await (ttl ? redis.set(key(id), json, 'EX', ttl) : redis.set(key(id), json));
          return;
        }

        // One write per slot, sent together (auto-pipelining: one round-trip on one Redis).
        const writes: Promise<unknown>[] = [];
        if (isConsumable) {
          // A rewrite starts with no `consumed` field; one key, so one MULTI even on a cluster.
          const multi = redis.multi().del(key(id)).hset(key(id), 'payload', json);
          if (ttl) multi.expire(key(id), ttl);
          writes.push(exec(multi));
        } else writes.push(ttl ? redis.set(key(id), json, 'EX', ttl) : redis.set(key(id), json));
        for (const pointer of pointers) writes.push(ttl ? redis.set(pointer, id, 'EX', ttl) : redis.set(pointer, id));
        if (grant) {
          // Members are scored by their expiry, and each addition drops the expired
          // ones: with consume() and destroy() removing theirs, the set holds only
          // the grant's live tokens, however many refreshes it has seen.
          const now = Date.now();
          const multi = redis.multi()
            .zremrangebyscore(grant, '-inf', now)
            .zadd(grant, ttl ? now + ttl * 1000 : '+inf', key(id));
          // NX gives a new set its first TTL, GT only ever extends it. (Tokens always have a TTL.)
          if (ttl) multi.expire(grant, ttl, 'NX').expire(grant, ttl, 'GT');
          writes.push(exec(multi));
        }
        await Promise.all(writes);
      },

      async find(id) {
        if (!isConsumable) {
          const json = await redis.get(key(id));
          return json === null ? undefined : (JSON.parse(json) as AdapterPayload);
        }
        const [json, consumed] = await redis.hmget(key(id), 'payload', 'consumed');
        if (json === null) return undefined;
        const payload = JSON.parse(json) as AdapterPayload;
        return consumed ? { ...payload, consumed: Number(consumed) } : payload;
      },

      async findByUid(uid) {
        const id = await redis.get(uidKey(uid));
        return id === null ? undefined : adapter.find(id);
      },

      async findByUserCode(userCode) {
        const id = await redis.get(userCodeKey(userCode));
        return id === null ? undefined : adapter.find(id);
      },

      async consume(id) {
        const result = await run(redis, CONSUME, [key(id)], [Math.floor(Date.now() / 1000)]);
        const [outcome, grantId] = Array.isArray(result) ? (result as [number, string]) : [0, ''];
        if (outcome === 1) {
          // The record stays (a replay must find it consumed) but no longer counts
          // as one of the grant's live tokens: a rotated refresh token leaves the set.
          // Best effort: the token is consumed whatever this does, and an error
          // here would answer 503, whose retry would look like a replay and
          // revoke the grant. A member left behind only costs a DEL at revocation.
          if (isGrantable && grantId) await redis.zrem(grantKey(grantId), key(id)).catch(() => {});
          return;
        }
        // A replay's answer is invalid_grant even when Redis fails the
        // revocation now: answering 503 would leave the grant alive for
        // whichever party holds its newest token. The revocation is retried.
        if (outcome === -1 && grantId) await revokeGrant(grantId, true).catch(() => retryRevocation(grantId));
        throw new AlreadyConsumedError(`${model} already consumed or revoked`);
      },

      async insertIfAbsent(id, payload, expiresIn) {
        const ttl = Math.max(1, Math.ceil(expiresIn));
        return (await redis.set(key(id), JSON.stringify(payload), 'EX', ttl, 'NX')) === 'OK';
      },

      async destroy(id) {
        // The payload names the pointers and the grant set.
        const payload = await adapter.find(id);
        await redis.del(key(id));
        if (!payload) return;
        await Promise.all([
          ...pointerKeys(payload).map((pointer) => run(redis, DROP_POINTER, [pointer], [id])),
          ...(isGrantable && payload.grantId ? [redis.zrem(grantKey(payload.grantId), key(id))] : []),
        ]);
      },

      async revokeByGrantId(grantId) {
        await revokeGrant(grantId, false);
      },
    };
    return adapter;
  };
}

/** MULTI results carry per-command errors instead of rejecting; surface them. The replies, in order. */
async function exec(multi: ChainableCommander): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  return results.map(([, reply]) => reply);
}

interface Script { lua: string; sha: string }

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** EVALSHA, falling back to EVAL (which caches the script) the first time per Redis. */
async function run(redis: RedisClient, { lua, sha }: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(lua, keys.length, ...keys, ...args);
  }
}
