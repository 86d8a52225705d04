#!/usr/bin/env node
// npx latchkey: re-exec the TypeScript CLI on the Node that package.json pins
// (node_modules/.bin/node is Node 24, which runs .ts directly).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = join(root, 'node_modules', '.bin', 'node');
const node = existsSync(pinned) ? pinned : process.execPath;
const result = spawnSync(node, [join(root, 'server', 'cli', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
