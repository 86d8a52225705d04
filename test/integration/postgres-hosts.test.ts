// needs: postgres
// A DATABASE_URL listing several hosts (server/db/multi-host.ts) against the
// real Postgres, each "host" a TCP proxy in front of it that the test can
// stop: a dead first host is skipped, and when the host in use stops the pool
// moves to the next one without being rebuilt (the failover of a primary).
import test from 'ava';
import { connectPostgres } from '../../server/db/database.ts';
import { StoreUnavailableError } from '../../server/errors.ts';
import { freePort } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';
import { startBlackholeProxy, type BlackholeProxy } from '../helpers/tcp-blackhole-proxy.ts';

let database: TestDatabase;
let first: BlackholeProxy;
let second: BlackholeProxy;

test.before(async () => {
  database = await createTestDatabase();
  const { hostname, port } = new URL(database.url);
  const target = { host: hostname, port: Number(port || 5432) };
  [first, second] = await Promise.all([startBlackholeProxy(target), startBlackholeProxy(target)]);
});

test.after.always(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await database?.drop();
});

/** DATABASE_URL with these ports as its hosts, in order. */
function multiHostUrl(ports: number[], attrs = 'read-write'): string {
  const url = new URL(database.url);
  const hosts = ports.map((p) => `127.0.0.1:${p}`).join(',');
  return `postgres://${url.username}${url.password ? `:${url.password}` : ''}@${hosts}${url.pathname}?target_session_attrs=${attrs}`;
}

test.serial('a host that refuses is skipped; the next read-write one serves', async (t) => {
  const dead = await freePort();
  const db = connectPostgres(multiHostUrl([dead, first.port]), 2, undefined, { statementMs: 2_000, connectMs: 1_000 });
  try {
    const { rows } = await db.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
    t.is(rows[0].transaction_read_only, 'off');
  } finally {
    await db.close();
  }
});

test.serial('the host in use stops: the pool moves to the next host without a restart; the requests in the window get a 503 error', async (t) => {
  const db = connectPostgres(multiHostUrl([first.port, second.port]), 4, () => {}, { statementMs: 2_000, connectMs: 1_000 });
  try {
    await Promise.all([1, 2, 3, 4].map(() => db.query('SELECT pg_sleep(0.05)')));
    await first.stop();
    const started = Date.now();
    let failed = 0;
    for (;;) {
      try {
        await db.query('SELECT 1');
        break;
      } catch (error) {
        t.true(error instanceof StoreUnavailableError, `a dead connection is a 503, not a 500: ${(error as Error).message}`);
        failed++;
        if (Date.now() - started > 10_000) throw error;
      }
    }
    t.log(`failover to the second host: ${failed} failed queries, serving again after ${Date.now() - started} ms`);
    // Everything goes to the second host now, including new connections.
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map(() => db.query('SELECT 1').then(() => 'ok', () => 'failed')));
    t.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    await first.start();
  } finally {
    await db.close();
  }
});
