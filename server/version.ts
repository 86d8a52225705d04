// Latchkey's version, from package.json (the one place it is written): shown
// by `latchkey --version`, the start-up banner and /healthz.
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
