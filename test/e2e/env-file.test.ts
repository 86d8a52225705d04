// needs: postgres
// A `.env` file in the working folder is read by the server and by the CLI
// (as `.env.example` suggests); a variable of the real environment wins over
// the file's.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runCli, startServer } from '../helpers/server-process.ts';
import { createTestDatabase } from '../helpers/services.ts';

// Only the .env file names the stores (runCli passes this process's environment on).
delete process.env.DATABASE_URL;
delete process.env.LATCHKEY_SECRET;

const folder = mkdtempSync(join(tmpdir(), 'latchkey-env-file-'));
test.after.always(() => rmSync(folder, { recursive: true, force: true }));

const envFile = (lines: string[]) => writeFileSync(join(folder, '.env'), `${lines.join('\n')}\n`);

test.serial('the server reads .env from its working folder; the real environment wins', async (t) => {
  // PORT in the file loses to the helper's PORT: the server answers on the helper's port.
  envFile(['PRODUCT_NAME="Acme Sign-in"', 'BRAND_COLOR=#111111', 'PORT=1']);
  const server = await startServer({ mode: 'embedded', cwd: folder, env: { BRAND_COLOR: '#abcdef' } });
  try {
    const page = await (await fetch(`${server.issuer}/interaction/unknown`)).text();
    t.regex(page, /<title>[^<]* · Acme Sign-in<\/title>/, 'PRODUCT_NAME from .env');
    t.regex(page, /--brand:#abcdef/, 'BRAND_COLOR from the environment, not .env');
    t.true(server.output().includes(`settings    ${join(folder, '.env')}`), server.output());
  } finally {
    await server.stop();
  }
});

test.serial('the CLI reads .env from its working folder; the real environment wins', async (t) => {
  const fromFile = await createTestDatabase();
  const fromEnvironment = await createTestDatabase();
  try {
    envFile([`DATABASE_URL=${fromFile.url}`, `LATCHKEY_SECRET=${randomBytes(32).toString('base64')}`]);
    const create = (identifier: string, env: Record<string, string> = {}) => runCli(
      env,
      ['apis', 'create', '--identifier', identifier, '--scope', 'read', '--json'],
      { cwd: folder },
    );
    const fromDotEnv = await create('https://file.example');
    t.is(fromDotEnv.code, 0, fromDotEnv.stderr);
    t.deepEqual(await identifiers(fromFile.url), ['https://file.example']);

    const overridden = await create('https://environment.example', { DATABASE_URL: fromEnvironment.url });
    t.is(overridden.code, 0, overridden.stderr);
    t.deepEqual(await identifiers(fromEnvironment.url), ['https://environment.example']);
    t.deepEqual(await identifiers(fromFile.url), ['https://file.example']);
  } finally {
    await fromFile.drop();
    await fromEnvironment.drop();
  }
});

async function identifiers(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ identifier: string }>('SELECT identifier FROM apis ORDER BY identifier')).rows.map((r) => r.identifier);
  } finally {
    await client.end();
  }
}
