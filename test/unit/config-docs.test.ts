// The documented settings cannot drift from the ones the server reads.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { SETTINGS } from '../../server/config/settings.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

test('.env.example lists every setting', (t) => {
  const example = read('.env.example');
  for (const { name } of SETTINGS) t.regex(example, new RegExp(`^(# )?${name}=`, 'm'), name);
});

test('the README configuration table lists every setting', (t) => {
  const readme = read('README.md');
  for (const { name } of SETTINGS) t.true(readme.includes(`| \`${name}\` |`), name);
});

test('the server reads no environment variable that is not a documented setting', (t) => {
  const names = new Set<string>([...SETTINGS.map((s) => s.name), 'LATCHKEY_DEBUG' /* CLI: print stacks */]);
  const files = readdirSync(new URL('../../server/', import.meta.url), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const used = files.flatMap((file) => [...read(`server/${file}`).matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]));
  t.true(files.length > 20);
  for (const name of used) t.true(names.has(name), `${name} is read but not documented`);
});
