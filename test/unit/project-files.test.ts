// The files around the code agree with package.json: the licence it names,
// the versions SECURITY.md supports, the Node version the README asks for;
// and the container files (Docker cannot run here, so they are read).
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { SETTINGS } from '../../server/config/settings.ts';

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

const dockerfile = read('Dockerfile');
const compose = read('docker-compose.yml');
/** The Node script of a healthcheck written `["node", "-e", "..."]` (Dockerfile) or `["CMD", "node", "-e", "..."]` (compose). */
const healthScript = (text: string) => {
  const quoted = /\[(?:"CMD", )?"node", "-e", ("(?:[^"\\]|\\.)+")\]$/m.exec(text)?.[1];
  return quoted === undefined ? undefined : JSON.parse(quoted) as string;
};
/** Lines that are not YAML/Dockerfile comments. */
const live = (text: string) => text.split('\n').filter((line) => !line.trim().startsWith('#'));

test('the image: Node 24 as the node devDependency, production packages only, a non-root user, a readiness healthcheck', (t) => {
  const major = /^\^(\d+)\./.exec(pkg.devDependencies.node)![1];
  t.regex(dockerfile, new RegExp(`^FROM node:${major}-`, 'm'), 'the base image runs the Node major the project pins');
  t.regex(dockerfile, /^RUN npm ci --omit=dev /m);
  t.false(/^COPY \. /m.test(dockerfile), 'no COPY of the whole context');
  const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
  t.truthy(user && user !== 'root' && user !== '0', 'runs as a non-root user');
  t.true(dockerfile.indexOf('USER ') < dockerfile.indexOf('\nCMD '), 'the USER line comes before CMD');
  t.regex(dockerfile, /^HEALTHCHECK .*\\\n {2}CMD \["node", "-e", /m);
  t.true(healthScript(dockerfile)?.includes("'/healthz/ready'"), 'the healthcheck asks for readiness');
  t.false(/9464|METRICS/.test(live(dockerfile).join('\n')), 'the metrics port is not exposed');
});

test('compose: the same readiness healthcheck, the master key as a secret file, only the main port published', (t) => {
  t.is(healthScript(compose), healthScript(dockerfile), 'one healthcheck script in both files');
  const lines = live(compose);
  t.false(lines.some((line) => line.includes('9464')), 'the metrics port is not published (only mentioned in a comment)');
  const published = lines.filter((line) => /^\s+- "[\d.:]+"$/.test(line)).map((line) => line.trim());
  t.deepEqual(published, ['- "3000:3000"']);
  t.true(lines.some((line) => line.trim() === 'LATCHKEY_SECRET_FILE: /run/secrets/latchkey_secret'));
  t.false(lines.some((line) => /^\s+LATCHKEY_SECRET:/.test(line)), 'the master key is not in the container environment');
  const topLevelSecrets = live(compose.split(/^secrets:$/m)[1] ?? '').join('\n').split(/^\S/m)[0];
  t.regex(topLevelSecrets, /^ {2}latchkey_secret:\n {4}environment: LATCHKEY_SECRET$/m, 'the secret comes from the shell\'s LATCHKEY_SECRET');
});

test('the healthcheck script exits 0 on a ready answer and 1 on 503 or no answer', async (t) => {
  const script = healthScript(dockerfile)!;
  let status = 200;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as AddressInfo).port);
  const probe = () => promisify(execFile)(process.execPath, ['-e', script], { env: { PORT: port } }).then(() => 0, (error: { code: number }) => error.code);
  try {
    t.is(await probe(), 0);
    status = 503;
    t.is(await probe(), 1);
    t.deepEqual(paths, ['/healthz/ready', '/healthz/ready']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  t.is(await probe(), 1, 'nothing listening');
});

test('.dockerignore keeps dependencies, the data folder, master keys, .env files and secrets out of the build context', (t) => {
  const ignored = new Set(live(read('.dockerignore')).map((line) => line.trim()).filter(Boolean));
  const dataDir = SETTINGS.find((s) => s.name === 'DATA_DIR')!.default.replace(/^\.\//, '');
  for (const entry of ['**/node_modules', dataDir, '**/master.key', '.env', '.env.*', 'secrets', '.git', 'artifacts']) t.true(ignored.has(entry), entry);
  t.true(ignored.has('!.env.example'), 'the example (no secrets) may go in');
  // Everything the image copies is still sent.
  for (const [, source] of dockerfile.matchAll(/^COPY (\S+) /gm)) t.false(ignored.has(source), `${source} is copied by the Dockerfile`);
});

const hadolint = spawnSync('hadolint', ['--version']).status === 0;
(hadolint ? test : test.skip)('hadolint finds nothing in the Dockerfile (skipped where hadolint is not installed)', (t) => {
  const result = spawnSync('hadolint', ['Dockerfile'], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
  t.is(result.status, 0, result.stdout + result.stderr);
});
