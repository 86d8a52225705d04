// The files around the code agree with package.json: the licence it names,
// the versions SECURITY.md supports, the Node version the README asks for.
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

test('the README asks for the Node version engines requires, which the pinned node satisfies', (t) => {
  const minimum = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
  t.truthy(minimum, `engines.node is ">=major.minor" (${pkg.engines.node})`);
  const [, major, minor] = minimum!.map(Number);
  const stated = [...read('README.md').matchAll(/Node(?:\.js)? ≥ ?([\d.]+)/g)].map((m) => m[1]);
  t.true(stated.length > 0, 'the README states a Node version');
  for (const version of stated) t.is(version, `${major}.${minor}`, 'every Node minimum in the README is the engines one');
  // These tests run on the pinned node (npm test): it must satisfy engines.
  const [runningMajor, runningMinor] = process.versions.node.split('.').map(Number);
  t.true(runningMajor > major || (runningMajor === major && runningMinor >= minor), `Node ${process.versions.node} satisfies ${pkg.engines.node}`);
  t.regex(pkg.devDependencies.node, new RegExp(`^\\^${major}\\.`), 'the node devDependency is that major');
});
