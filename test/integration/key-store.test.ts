// needs: postgres
// Signing keys and the admin-change counter, against real Postgres and PGlite.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationWatcher } from '../../server/cache/generation-watcher.ts';
import { deriveKey } from '../../server/crypto/secrets.ts';
import { connectPostgres, type Database } from '../../server/db/database.ts';
import { openEmbedded } from '../../server/db/embedded.ts';
import { migrate } from '../../server/db/migrate.ts';
import { ensureSigningKeys, listSigningKeys, loadSigningJwks, rotateSigningKeys } from '../../server/keys/key-store.ts';
import { createTestDatabase } from '../helpers/services.ts';

const encryptionKey = deriveKey(Buffer.alloc(32, 3), 'encryption');

const backends: Record<string, () => Promise<{ db: Database; close: () => Promise<void> }>> = {
  postgres: async () => {
    const { url, drop } = await createTestDatabase();
    const db = connectPostgres(url);
    return { db, close: async () => { await db.close(); await drop(); } };
  },
  pglite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-keys-'));
    const db = await openEmbedded(dir);
    await migrate(db);
    return { db, close: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  },
};

for (const [name, open] of Object.entries(backends)) {
  let backend: Awaited<ReturnType<typeof open>>;
  const db = () => backend.db;
  test.before(async () => {
    backend = await open();
  });
  test.after.always(() => backend?.close());

  test.serial(`${name}: first start creates one ES256 and one RS256 key, and only once`, async (t) => {
    const created = await ensureSigningKeys(db(), encryptionKey);
    t.deepEqual(created.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    t.deepEqual(await ensureSigningKeys(db(), encryptionKey), []);
    t.is((await listSigningKeys(db())).filter((k) => k.active).length, 2);
  });

  test.serial(`${name}: private keys are encrypted at rest`, async (t) => {
    const { rows } = await db().query('SELECT private_jwk_encrypted, public_jwk FROM signing_keys');
    for (const row of rows) {
      t.false(row.private_jwk_encrypted.includes('"d"'));
      t.regex(row.private_jwk_encrypted, /^v1\./);
      t.is(row.public_jwk.d, undefined);
    }
    const jwks = await loadSigningJwks(db(), encryptionKey, 3600);
    t.true(jwks.every((jwk) => typeof jwk.d === 'string'));
    await t.throwsAsync(loadSigningJwks(db(), deriveKey(Buffer.alloc(32, 4), 'encryption'), 3600));
  });

  test.serial(`${name}: rotation puts new keys first and keeps old ones for the retention window`, async (t) => {
    const before = await loadSigningJwks(db(), encryptionKey, 3600);
    const rotated = await rotateSigningKeys(db(), encryptionKey);
    t.is(rotated.length, 2);
    const after = await loadSigningJwks(db(), encryptionKey, 3600);
    t.is(after.length, 4);
    // oidc-provider signs with the first key of an alg: the new ones.
    t.deepEqual(after.slice(0, 2).map((k) => k.kid).sort(), rotated.map((k) => k.kid).sort());
    t.deepEqual(after.slice(2).map((k) => k.kid).sort(), before.map((k) => k.kid).sort());
    const keys = await listSigningKeys(db());
    t.is(keys.filter((k) => k.active).length, 2);
    t.is(keys.filter((k) => k.retiredAt).length, 2);
    // Once the longest token lifetime has passed, retired keys leave the JWKS.
    await db().query("UPDATE signing_keys SET retired_at = now() - interval '2 hours' WHERE retired_at IS NOT NULL");
    t.deepEqual((await loadSigningJwks(db(), encryptionKey, 3600)).map((k) => k.kid).sort(), rotated.map((k) => k.kid).sort());
  });

  test.serial(`${name}: a delayed rotation publishes the new keys at once and signs with them later`, async (t) => {
    const signers = async () => (await listSigningKeys(db())).filter((k) => k.active).map((k) => k.kid).sort();
    const before = await signers();
    const rotated = await rotateSigningKeys(db(), encryptionKey, 3600);
    const jwks = await loadSigningJwks(db(), encryptionKey, 3600);
    t.deepEqual(jwks.slice(0, 2).map((k) => k.kid).sort(), before, 'the old keys still sign (listed first)');
    t.true(rotated.every(({ kid }) => jwks.some((k) => k.kid === kid)), 'the new keys are published');
    t.deepEqual(await signers(), before);
    // Once the activation time has come, the new keys sign and the old ones are retired.
    await db().query("UPDATE signing_keys SET activates_at = now() - interval '1 second', retired_at = CASE WHEN retired_at IS NULL THEN NULL ELSE now() - interval '1 second' END WHERE kid = ANY($1) OR retired_at > now()", [[...rotated.map((k) => k.kid), ...before]]);
    t.deepEqual(await signers(), rotated.map((k) => k.kid).sort());
    t.deepEqual((await loadSigningJwks(db(), encryptionKey, 3600)).slice(0, 2).map((k) => k.kid).sort(), rotated.map((k) => k.kid).sort());
  });

  test.serial(`${name}: every admin change moves the generation the servers poll`, async (t) => {
    const watcher = new GenerationWatcher(db(), 60_000);
    await watcher.start();
    const changes: string[] = [];
    watcher.on('change', (generation) => changes.push(generation));
    await watcher.check();
    t.is(changes.length, 0, 'no change, no event');
    await db().query(`INSERT INTO apis (id, identifier, access_token_ttl) VALUES (gen_random_uuid(), 'https://gen.example', 60)`);
    await watcher.check();
    t.is(changes.length, 1);
    await rotateSigningKeys(db(), encryptionKey);
    await watcher.check();
    t.is(changes.length, 2);
    watcher.stop();
  });
}
