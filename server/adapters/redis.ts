// Redis store for oidc-provider models, after the Redis example oidc-provider used
// to ship (example/adapters/redis.js): one JSON value per record with the model's
// TTL, `uid:`/`userCode:` pointer keys with the same TTL, and a `grant:<grantId>`
// set of the grant's token keys that lives as long as its longest-lived member.
// Needs Redis >= 7 (EXPIRE NX/GT).
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { AdapterPayload } from 'oidc-provider';
import { AlreadyConsumedError } from './errors.ts';
import type { Adapter } from './index.ts';
import { GRANTABLE_MODELS } from './models.ts';

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

// Test-and-set, atomically: 1 = consumed now; -1 = consumed already, i.e.
// requests raced with one code or refresh token. Then the whole grant goes, as
// oidc-provider does for a sequential replay: its tokens (the grant set) and
// the Grant record (ARGV[2] is the key prefix). 0 = the record is gone: the
// caller read it moments ago, so a racing replay revoked it; also a refusal.
const CONSUME = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'consumed', ARGV[1]) == 1 then return 1 end
local ok, payload = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'payload') or '')
if ok and type(payload) == 'table' and type(payload.grantId) == 'string' then
  local grantSet = ARGV[2] .. 'grant:' .. payload.grantId
  for _, key in ipairs(redis.call('SMEMBERS', grantSet)) do redis.call('DEL', key) end
  redis.call('DEL', grantSet, ARGV[2] .. 'Grant:' .. payload.grantId)
end
return -1`);

// Pointers are only dropped while they still name this record: a regenerated session keeps its uid.
const DESTROY = script(`
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end`);

// Read and delete in one step, so a token written meanwhile is not left without its grant set.
// (Member keys are not declared in KEYS: fine on one Redis, not on Redis Cluster.)
const REVOKE = script(`
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])`);

export function createRedisAdapterFactory(redis: Redis, keyPrefix: string): (name: string) => Adapter {
  const grantKey = (grantId: string) => `${keyPrefix}grant:${grantId}`;
  const uidKey = (uid: string) => `${keyPrefix}uid:${uid}`;
  const userCodeKey = (userCode: string) => `${keyPrefix}userCode:${userCode}`;

  return (model) => {
    const key = (id: string) => `${keyPrefix}${model}:${id}`;
    const isConsumable = consumable.has(model);
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
        const grant = GRANTABLE_MODELS.has(model) && payload.grantId ? grantKey(payload.grantId) : undefined;

        // Hot path (client_credentials tokens, interactions, grants): a single SET.
        if (!isConsumable && !grant && pointers.length === 0) {
          await (ttl ? redis.set(key(id), json, 'EX', ttl) : redis.set(key(id), json));
          return;
        }

        // Everything else: one MULTI, i.e. one round-trip, applied atomically.
        const multi = redis.multi();
        if (isConsumable) {
          multi.del(key(id)).hset(key(id), 'payload', json); // a rewrite starts with no `consumed` field
          if (ttl) multi.expire(key(id), ttl);
        } else if (ttl) multi.set(key(id), json, 'EX', ttl);
        else multi.set(key(id), json);
        for (const pointer of pointers) {
          if (ttl) multi.set(pointer, id, 'EX', ttl);
          else multi.set(pointer, id);
        }
        if (grant) {
          multi.sadd(grant, key(id));
          // NX gives a new set its first TTL, GT only ever extends it. (Tokens always have a TTL.)
          if (ttl) multi.expire(grant, ttl, 'NX').expire(grant, ttl, 'GT');
        }
        await exec(multi);
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
        const result = await run(redis, CONSUME, [key(id)], [Math.floor(Date.now() / 1000), keyPrefix]);
        if (result !== 1) throw new AlreadyConsumedError(`${model} already consumed or revoked`);
      },

      async insertIfAbsent(id, payload, expiresIn) {
        const ttl = Math.max(1, Math.ceil(expiresIn));
        return (await redis.set(key(id), JSON.stringify(payload), 'EX', ttl, 'NX')) === 'OK';
      },

      async destroy(id) {
        // The payload names the pointers; a stale member left in a grant set is harmless.
        const payload = await adapter.find(id);
        await run(redis, DESTROY, [key(id), ...(payload ? pointerKeys(payload) : [])], [id]);
      },

      async revokeByGrantId(grantId) {
        await run(redis, REVOKE, [grantKey(grantId)], []);
      },
    };
    return adapter;
  };
}

/** MULTI results carry per-command errors instead of rejecting; surface them. */
async function exec(multi: ChainableCommander): Promise<void> {
  for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
}

interface Script { lua: string; sha: string }

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** EVALSHA, falling back to EVAL (which caches the script) the first time per Redis. */
async function run(redis: Redis, { lua, sha }: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return redis.eval(lua, keys.length, ...keys, ...args);
  }
}
