// Embedded mode (no services needed): one process per DATA_DIR, held by a
// lock the kernel releases when its holder dies, and the server's and the
// CLI's connections share PGlite's single session safely.
import test from 'ava';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEmbeddedSocket, embeddedServerRunning, openEmbedded } from '../../server/db/embedded.ts';
import { runFailingStart, startServer } from '../helpers/server-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'latchkey-embedded-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test.serial('a DATA_DIR is opened by one process at a time', async (t) => {
  const db = await openEmbedded(dir);
  t.true(await embeddedServerRunning(dir));
  await t.throwsAsync(openEmbedded(dir), { message: /another Latchkey process is using/ });
  t.is(statSync(dir).mode & 0o777, 0o700, 'the folder (socket, data) is private');
  await db.close();
  t.false(await embeddedServerRunning(dir));
  const again = await openEmbedded(dir);
  await again.close();
});

test.serial('a lock file naming a live unrelated process (an old pid file, a reused pid) does not block the start', async (t) => {
  for (const pid of [process.pid, 1]) {
    writeFileSync(join(dir, 'latchkey.lock'), String(pid));
    const db = await openEmbedded(dir);
    await db.close();
  }
  t.pass();
});

test.serial('a SIGKILLed server\'s DATA_DIR starts again at once; a second server on it is refused with a clear message', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-embedded-kill-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServer({ mode: 'embedded', env: { DATA_DIR: dataDir } });
  const second = await runFailingStart({ NODE_ENV: 'development', DATA_DIR: dataDir });
  t.is(second.code, 1);
  t.is(second.output.trim(), `Latchkey could not start: another Latchkey process is using ${dataDir} (stop it, or set DATA_DIR)`);
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const again = await startServer({ mode: 'embedded', env: { DATA_DIR: dataDir } });
  t.is((await fetch(`${again.origin}/healthz`)).status, 200);
  await again.stop();
  await first.stop();
});

test.serial('concurrent parameterised statements from the server and CLI connections each get their own answer', async (t) => {
  const server = await openEmbedded(dir);
  const cli = connectEmbeddedSocket(dir, 2);
  try {
    await server.query('CREATE TABLE IF NOT EXISTS numbers (n integer PRIMARY KEY, label text NOT NULL)');
    // Many concurrent extended-protocol queries over 6 connections, each with
    // its own SQL text (an interleaved Parse from another connection would
    // replace the unnamed statement): each must get its own answer back.
    const runs = Array.from({ length: 120 }, (_, i) => {
      const db = i % 2 ? cli : server;
      return db.query<{ n: number; label: string; q: number }>(`SELECT $1::int AS n, $2::text AS label, ${i} AS q`, [i, `label-${i}`]);
    });
    const results = await Promise.allSettled(runs);
    results.forEach((result, i) => {
      if (result.status === 'rejected') t.fail(`query ${i}: ${(result.reason as Error).message}`);
      else t.deepEqual(result.value.rows, [{ n: i, label: `label-${i}`, q: i }]);
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? cli : server).query('INSERT INTO numbers (n, label) VALUES ($1, $2)', [i, `n${i}`])));
    const { rows } = await cli.query<{ count: string }>('SELECT count(*) FROM numbers');
    t.is(Number(rows[0].count), 40);
  } finally {
    await cli.close();
    await server.close();
  }
});
