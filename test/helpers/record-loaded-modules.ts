// `node --import` this ahead of the server to learn which modules the process
// loaded: every module resolved (by import or require) is written, one URL a
// line, to $RECORD_MODULES_TO when the process exits. Tests only.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const target = process.env.RECORD_MODULES_TO;
if (!target) throw new Error('RECORD_MODULES_TO is not set');
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    loaded.add(resolved.url);
    return resolved;
  },
});
process.on('exit', () => writeFileSync(target, [...loaded].join('\n')));
