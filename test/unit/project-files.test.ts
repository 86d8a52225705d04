// The files around the code agree with package.json: the licence it names,
// the versions SECURITY.md supports.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string; engines: { node: string }; devDependencies: Record<string, string> };

test('LICENSE holds the MIT licence package.json names, for Latchkey contributors', (t) => {
  t.is(pkg.license, 'MIT');
  t.true(existsSync(new URL('../../LICENSE', import.meta.url)), 'LICENSE exists');
  const license = read('LICENSE');
  t.true(license.startsWith('MIT License\n'));
  t.regex(license, /^Copyright \(c\) \d{4} Latchkey contributors$/m);
  t.true(license.includes('Permission is hereby granted, free of charge, to any person obtaining a copy'));
  t.true(license.includes('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND'));
});

test('SECURITY.md says how to report privately, which versions get fixes (the current one among them) and what is in scope', (t) => {
  t.true(existsSync(new URL('../../SECURITY.md', import.meta.url)), 'SECURITY.md exists');
  const policy = read('SECURITY.md');
  for (const heading of ['## Reporting a vulnerability', '## Supported versions', '## Scope']) t.true(policy.includes(`\n${heading}\n`), heading);
  t.regex(policy, /privately/i);
  const [major, minor] = pkg.version.split('.');
  t.true(policy.includes(`| ${major}.${minor}.x | yes |`), `the current ${major}.${minor}.x is supported`);
  t.true(read('README.md').includes('[SECURITY.md](SECURITY.md)'), 'the README points to it');
});
