// The documented settings cannot drift from the ones the server reads.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { envExample, markdownTable } from '../../server/config/docs.ts';
import { SETTINGS } from '../../server/config/settings.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

test('.env.example is generated from the settings (npm run config:docs)', (t) => {
  t.is(read('.env.example'), `${envExample()}\n`);
});

test('the README configuration table is generated from the settings (npm run config:docs)', (t) => {
  t.true(read('README.md').includes(markdownTable()));
});

test('the server reads no environment variable that is not a documented setting', (t) => {
  const names = new Set<string>([...SETTINGS.map((s) => s.name), 'LATCHKEY_DEBUG' /* CLI: print stacks */]);
  const files = readdirSync(new URL('../../server/', import.meta.url), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const used = files.flatMap((file) => [...read(`server/${file}`).matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]));
  t.true(files.length > 20);
  for (const name of used) t.true(names.has(name), `${name} is read but not documented`);
});

test('a default that depends on NODE_ENV is documented with both values and left unset in .env.example', (t) => {
  t.true(markdownTable().includes('| `HOST` | `127.0.0.1` (production: `0.0.0.0`) |'));
  // A .env copied from the example and switched to production must not keep development's loopback bind.
  t.true(envExample().includes('\n# HOST=\n'));
  t.false(/^HOST=/m.test(envExample()));
});
