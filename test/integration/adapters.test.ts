// needs: redis
// One suite, two stores: everything oidc-provider relies on from an adapter must
// hold for the in-process store and for Redis alike.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AdapterPayload } from 'oidc-provider';
import type { AdapterFactory } from '../../server/adapters/index.ts';
import { AlreadyConsumedError, createAdapterFactory } from '../../server/adapters/index.ts';
import { createMemoryAdapterFactory } from '../../server/adapters/memory.ts';
import { createRedisAdapterFactory, grantSetKey } from '../../server/adapters/redis.ts';
import { connectRedis, pingRedis } from '../../server/adapters/redis-connection.ts';
import { TEST_REDIS_URL, uniqueRedisPrefix } from '../helpers/services.ts';

const redis = connectRedis(TEST_REDIS_URL);
const prefixes = [uniqueRedisPrefix(), uniqueRedisPrefix()];

test.before(() => pingRedis(redis));

test.after.always(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  await redis.quit();
});

// `store` is what a server process holds; `stranger` must never see its data.
const backends: Array<{ name: string; store: AdapterFactory; stranger: AdapterFactory }> = [
  { name: 'memory', store: createMemoryAdapterFactory(), stranger: createMemoryAdapterFactory() },
  { name: 'redis', store: createRedisAdapterFactory(redis, prefixes[0]), stranger: createRedisAdapterFactory(redis, prefixes[1]) },
];

const id = () => randomUUID();
const token = (extra: AdapterPayload = {}): AdapterPayload => ({
  jti: id(),
  kind: 'AccessToken',
  iat: 1_700_000_000,
  scope: 'openid email',
  claims: { userinfo: { email: null } },
  resource: [],
  extra: { nested: { list: [1, 'two', { three: 3 }] } },
  ...extra,
});

for (const { name, store, stranger } of backends) {
  const title = (text: string) => `${name}: ${text}`;

  test(title('upsert then find returns an equal payload; a rewrite replaces it'), async (t) => {
    const adapter = store('AccessToken');
    const payload = token();
    await adapter.upsert(payload.jti!, payload, 60);
    t.deepEqual(await adapter.find(payload.jti!), payload);
    await adapter.upsert(payload.jti!, { ...payload, scope: 'openid' }, 60);
    t.is((await adapter.find(payload.jti!))?.scope, 'openid');
  });

  test(title('unknown ids find nothing; consume refuses them; other calls are no-ops'), async (t) => {
    const adapter = store('AuthorizationCode');
    const unknown = id();
    t.is(await adapter.find(unknown), undefined);
    t.is(await store('Session').findByUid(unknown), undefined);
    t.is(await store('DeviceCode').findByUserCode(unknown), undefined);
    // A record read a moment ago and gone now was revoked by a racing replay.
    await t.throwsAsync(adapter.consume(unknown), { instanceOf: AlreadyConsumedError });
    await adapter.destroy(unknown);
    await adapter.revokeByGrantId(unknown);
    t.is(await adapter.find(unknown), undefined, 'consume must not create a record');
  });

  test(title('records, uid and userCode pointers expire after expiresIn'), async (t) => {
    const [at, session, device] = [token(), { uid: id(), accountId: 'a' }, { userCode: id(), grantId: id() }];
    const [sessionId, deviceId] = [id(), id()];
    await store('AccessToken').upsert(at.jti!, at, 1);
    await store('Session').upsert(sessionId, session, 1);
    await store('DeviceCode').upsert(deviceId, device, 1);
    t.truthy(await store('AccessToken').find(at.jti!));
    t.truthy(await store('Session').findByUid(session.uid));
    t.truthy(await store('DeviceCode').findByUserCode(device.userCode));
    await sleep(1_100);
    t.is(await store('AccessToken').find(at.jti!), undefined);
    t.is(await store('Session').find(sessionId), undefined);
    t.is(await store('Session').findByUid(session.uid), undefined);
    t.is(await store('DeviceCode').findByUserCode(device.userCode), undefined);
  });

  test(title('findByUid finds the session, findByUserCode the device code'), async (t) => {
    const session = { uid: id(), accountId: 'alice', exp: 1 };
    await store('Session').upsert(id(), session, 60);
    t.deepEqual(await store('Session').findByUid(session.uid), session);
    const device = { userCode: id(), grantId: id(), params: { client_id: 'c' } };
    await store('DeviceCode').upsert(id(), device, 60);
    t.deepEqual(await store('DeviceCode').findByUserCode(device.userCode), device);
  });

  test(title('consume marks the record consumed; a rewrite clears it'), async (t) => {
    for (const model of ['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest']) {
      const adapter = store(model);
      const codeId = id();
      const payload = { grantId: id(), kind: model, userCode: model === 'DeviceCode' ? id() : undefined };
      await adapter.upsert(codeId, payload, 60);
      t.falsy((await adapter.find(codeId))?.consumed, model);
      await adapter.consume(codeId);
      const found = await adapter.find(codeId);
      t.truthy(found?.consumed, model);
      t.true(Math.abs(found!.consumed - Date.now() / 1000) < 5, model);
      t.is(found?.kind, model);
      if (payload.userCode) t.truthy((await adapter.findByUserCode(payload.userCode))?.consumed);
      await adapter.upsert(codeId, payload, 60);
      t.falsy((await adapter.find(codeId))?.consumed, `${model} rewritten`);
    }
  });

  test(title('racing consumes: exactly one wins, the rest fail and the grant is revoked'), async (t) => {
    const grantId = id();
    const codeId = id();
    const accessId = id();
    await store('AuthorizationCode').upsert(codeId, token({ kind: 'AuthorizationCode', grantId }), 60);
    await store('AccessToken').upsert(accessId, token({ grantId }), 60);
    await store('Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 60);
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => store('AuthorizationCode').consume(codeId)));
    t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') t.true(r.reason instanceof AlreadyConsumedError);
    t.is(await store('AccessToken').find(accessId), undefined, 'the grant\'s tokens are gone');
    t.is(await store('Grant').find(grantId), undefined, 'the grant is gone');
  });

  test(title('insertIfAbsent lets exactly one of racing inserts through'), async (t) => {
    const key = id();
    const results = await Promise.all(Array.from({ length: 6 }, () => store('ReplayDetection').insertIfAbsent(key, { jti: key, kind: 'ReplayDetection' }, 60)));
    t.is(results.filter(Boolean).length, 1);
    t.truthy(await store('ReplayDetection').find(key));
  });

  test(title('consume keeps the TTL: a consumed record still expires'), async (t) => {
    const adapter = store('RefreshToken');
    const rt = id();
    await adapter.upsert(rt, { grantId: id() }, 1);
    await adapter.consume(rt);
    t.truthy((await adapter.find(rt))?.consumed);
    await sleep(1_100);
    t.is(await adapter.find(rt), undefined);
  });

  test(title('destroy removes the record and the pointers that still name it'), async (t) => {
    const sessions = store('Session');
    const [oldId, newId, uid] = [id(), id(), id()];
    await sessions.upsert(oldId, { uid, accountId: 'a' }, 60);
    await sessions.destroy(oldId);
    t.is(await sessions.find(oldId), undefined);
    t.is(await sessions.findByUid(uid), undefined);

    // A regenerated session keeps its uid: destroying the old id must not orphan the new one.
    await sessions.upsert(oldId, { uid, accountId: 'a' }, 60);
    await sessions.upsert(newId, { uid, accountId: 'b' }, 60);
    await sessions.destroy(oldId);
    t.is((await sessions.findByUid(uid))?.accountId, 'b');

    const devices = store('DeviceCode');
    const [deviceId, userCode] = [id(), id()];
    await devices.upsert(deviceId, { userCode, grantId: id() }, 60);
    await devices.destroy(deviceId);
    t.is(await devices.findByUserCode(userCode), undefined);
  });

  test(title('revokeByGrantId removes every token of that grant and nothing else'), async (t) => {
    const [grantId, otherGrant] = [id(), id()];
    const grantTokens = [
      ['AccessToken', id()],
      ['AccessToken', id()],
      ['RefreshToken', id()],
      ['AuthorizationCode', id()],
      ['DeviceCode', id()],
      ['BackchannelAuthenticationRequest', id()],
    ];
    const survivors = [
      ['AccessToken', id(), otherGrant],
      ['RefreshToken', id(), otherGrant],
      ['Interaction', id(), grantId], // not a token: oidc-provider deletes interactions itself
      ['Grant', grantId, undefined], // the grant record is destroyed separately (revokeGrantPolicy)
      ['ClientCredentials', id(), undefined],
    ];
    await Promise.all([
      ...grantTokens.map(([model, jti]) => store(model).upsert(jti, { grantId, kind: model }, 60)),
      ...survivors.map(([model, jti, grant]) => store(model!).upsert(jti!, { grantId: grant, kind: model }, 60)),
    ]);
    // oidc-provider calls it on each token model; any one of them clears the whole grant.
    await store('RefreshToken').revokeByGrantId(grantId);
    for (const [model, jti] of grantTokens) t.is(await store(model).find(jti), undefined, model);
    for (const [model, jti] of survivors) t.truthy(await store(model!).find(jti!), model);
    await store('AccessToken').revokeByGrantId(grantId);
  });

  test(title('a separate store (other keyPrefix) sees nothing; a new adapter on the same store sees all'), async (t) => {
    const payload = { uid: id(), accountId: 'a' };
    const sessionId = id();
    await store('Session').upsert(sessionId, payload, 60);
    t.is(await stranger('Session').find(sessionId), undefined);
    t.is(await stranger('Session').findByUid(payload.uid), undefined);
    await stranger('Session').destroy(sessionId);
    t.deepEqual(await store('Session').find(sessionId), payload);
  });

  test(title('concurrent upserts all land, and revocation removes them all'), async (t) => {
    const grantId = id();
    const tokens = Array.from({ length: 200 }, () => token({ grantId }));
    await Promise.all(tokens.map((payload) => store('AccessToken').upsert(payload.jti!, payload, 60)));
    const found = await Promise.all(tokens.map((payload) => store('AccessToken').find(payload.jti!)));
    t.deepEqual(found, tokens);
    await store('AccessToken').revokeByGrantId(grantId);
    const gone = await Promise.all(tokens.map((payload) => store('AccessToken').find(payload.jti!)));
    t.true(gone.every((payload) => payload === undefined));

    // Racing writes of one record leave one whole payload, never a mix.
    const codeId = id();
    await Promise.all(Array.from({ length: 50 }, (_, n) => store('AuthorizationCode').upsert(codeId, { grantId, n }, 60)));
    t.is(typeof (await store('AuthorizationCode').find(codeId))?.n, 'number');
  });
}

test('redis: TTLs — pointers follow their record, a grant set lives as long as its longest token', async (t) => {
  const prefix = prefixes[0];
  const factory = createRedisAdapterFactory(redis, prefix);
  const [grantId, codeId, at1, at2, rt] = [id(), id(), id(), id(), id()];
  const grantKey = grantSetKey(prefix, grantId);
  await factory('AccessToken').upsert(at1, { grantId }, 100);
  t.true((await redis.ttl(grantKey)) > 95);
  await factory('RefreshToken').upsert(rt, { grantId }, 1_000);
  t.true((await redis.ttl(grantKey)) > 995);
  await factory('AccessToken').upsert(at2, { grantId }, 50);
  t.true((await redis.ttl(grantKey)) > 995, 'a shorter-lived token must not shorten the set');

  const userCode = id();
  await factory('DeviceCode').upsert(codeId, { grantId, userCode }, 300);
  await factory('DeviceCode').consume(codeId);
  const [recordTtl, pointerTtl] = await Promise.all([redis.ttl(`${prefix}DeviceCode:${codeId}`), redis.ttl(`${prefix}userCode:${userCode}`)]);
  t.true(recordTtl > 295 && recordTtl <= 300, 'consume keeps the TTL');
  t.true(pointerTtl > 295 && pointerTtl <= 300);

  // consume on a vanished record must not recreate it without a TTL.
  await factory('DeviceCode').destroy(codeId);
  await t.throwsAsync(factory('DeviceCode').consume(codeId), { instanceOf: AlreadyConsumedError });
  t.is(await redis.exists(`${prefix}DeviceCode:${codeId}`), 0);
  await factory('AccessToken').revokeByGrantId(grantId);
  t.is(await redis.exists(grantKey), 0);
});

test('redis: createAdapterFactory caches one adapter per model', (t) => {
  const factory = createAdapterFactory({ redis, keyPrefix: prefixes[0] });
  t.is(factory('Session'), factory('Session'));
  t.not(factory('Session'), factory('Interaction'));
});

test('redis: bearer tokens are stored under a hash of their value, without jti (C41)', async (t) => {
  const prefix = prefixes[0];
  const factory = createAdapterFactory({ redis, keyPrefix: prefix });
  const value = `rt-${id()}`;
  const grantId = id();
  await factory('RefreshToken').upsert(value, { jti: value, kind: 'RefreshToken', grantId }, 300);
  const keys = await redis.keys(`${prefix}*`);
  const dump = (await Promise.all(keys.map(async (key) => {
    const type = await redis.type(key);
    if (type === 'hash') return JSON.stringify(await redis.hgetall(key));
    if (type === 'set') return JSON.stringify(await redis.smembers(key));
    if (type === 'zset') return JSON.stringify(await redis.zrange(key, '0', '-1'));
    return String(await redis.get(key));
  }))).join('\n');
  t.false(keys.some((key) => key.includes(value)), 'no key names the token');
  t.false(dump.includes(value), 'no value holds the token');
  const found = await factory('RefreshToken').find(value);
  t.is(found?.jti, value, 'find restores jti from the presented value');
  t.is(found?.grantId, grantId);
  await factory('RefreshToken').revokeByGrantId(grantId);
  t.is(await factory('RefreshToken').find(value), undefined);
  // Sessions and interactions are not bearer tokens of this kind: stored as given.
  await factory('Interaction').upsert('plain-id', { jti: 'plain-id', kind: 'Interaction' }, 60);
  t.is((await factory('Interaction').find('plain-id'))?.jti, 'plain-id');
});

test('redis: a grant set holds only live tokens, however many refreshes the grant has seen', async (t) => {
  const prefix = prefixes[0];
  const factory = createAdapterFactory({ redis, keyPrefix: prefix });
  const grantId = id();
  const grantKey = grantSetKey(prefix, grantId);
  // Each rotation, as oidc-provider does it: the old refresh token consumed, a new one and an access token written.
  let refresh = `rt-${id()}`;
  await factory('RefreshToken').upsert(refresh, { grantId }, 1_000);
  const rotate = async (accessTtl: number) => {
    await factory('RefreshToken').consume(refresh);
    refresh = `rt-${id()}`;
    await factory('RefreshToken').upsert(refresh, { grantId }, 1_000);
    await factory('AccessToken').upsert(`at-${id()}`, { grantId }, accessTtl);
  };
  for (let n = 0; n < 200; n++) await rotate(2);
  t.true(await redis.zcard(grantKey) <= 201, 'at most the live refresh token and the 200 access tokens: no rotated refresh token');
  await sleep(2_100);
  await rotate(60);
  t.is(await redis.zcard(grantKey), 2, 'expired access tokens and rotated refresh tokens are gone');
  await factory('RefreshToken').revokeByGrantId(grantId);
  t.is(await factory('RefreshToken').find(refresh), undefined, 'revocation still finds the live refresh token');
  t.is(await redis.exists(grantKey), 0);
});

test('redis: destroying a token takes it out of its grant set', async (t) => {
  const prefix = prefixes[0];
  const factory = createAdapterFactory({ redis, keyPrefix: prefix });
  const [grantId, access] = [id(), `at-${id()}`];
  await factory('AccessToken').upsert(access, { grantId }, 60);
  t.is(await redis.zcard(grantSetKey(prefix, grantId)), 1);
  await factory('AccessToken').destroy(access);
  t.is(await redis.zcard(grantSetKey(prefix, grantId)), 0);
});

test('redis: a grant set written before the upgrade (a plain SET under grant:<id>) is still revoked', async (t) => {
  const prefix = prefixes[0];
  const factory = createRedisAdapterFactory(redis, prefix);
  const [grantId, old] = [id(), id()];
  // What the previous version wrote: the token, and its key in a SET.
  await redis.set(`${prefix}AccessToken:${old}`, JSON.stringify({ grantId }), 'EX', 60);
  await redis.sadd(`${prefix}grant:${grantId}`, `${prefix}AccessToken:${old}`);
  t.deepEqual(await factory('AccessToken').find(old), { grantId });
  await factory('AccessToken').revokeByGrantId(grantId);
  t.is(await factory('AccessToken').find(old), undefined);
  t.is(await redis.exists(`${prefix}grant:${grantId}`), 0);
});
