// Which server folders may import which: the account page shares nothing
// with the sign-in flow but what lives in a module both use, and the
// throttle and the HTTP helpers stand apart from the MFA stores.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const server = fileURLToPath(new URL('../../server/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Server folders (relative to server/) that the files under `folder` import from. */
function importedFolders(folder: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files(join(server, folder))) {
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from '([^']+)'/gm)) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(server, join(file, '..', specifier));
      const top = target.startsWith('..') ? target : target.split('/')[0];
      found.set(top, [...(found.get(top) ?? []), relative(server, file)]);
    }
  }
  return found;
}

const rules: [string, string][] = [
  ['account', 'interactions'],
  ['interactions', 'account'],
  ['http', 'mfa'],
  ['throttle', 'mfa'],
  ['throttle', 'interactions'],
];

for (const [from, forbidden] of rules) {
  test(`server/${from}/ imports nothing from server/${forbidden}/`, (t) => {
    const imports = importedFolders(from);
    t.true(imports.size > 0, 'the scan found the folder\'s imports');
    t.deepEqual(imports.get(forbidden) ?? [], []);
  });
}
