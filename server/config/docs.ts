// The README configuration table and .env.example, generated from SETTINGS.
// `npm run config:docs` prints both; test/unit/config-docs.test.ts checks
// that the committed files match.
import { SETTINGS } from './settings.ts';

const plain = (text: string) => text.replace(/`/g, '');

export function markdownTable(): string {
  return [
    '| variable | default | meaning |',
    '|---|---|---|',
    ...SETTINGS.map((s) => `| \`${s.name}\` | ${'default' in s ? `\`${s.default}\`` : '—'} | ${s.description} |`),
  ].join('\n');
}

export function envExample(): string {
  return [
    '# Latchkey configuration. Every setting is optional in development;',
    '# production (NODE_ENV=production) requires LATCHKEY_SECRET, DATABASE_URL, REDIS_URL and an https ISSUER.',
    '# Copy it to .env: the server and the CLI read .env from the folder they run in; the environment wins over it.',
    '',
    ...SETTINGS.flatMap((s) => [`# ${plain(s.description)}`, 'default' in s ? `${s.name}=${s.default}` : `# ${s.name}=`, '']),
  ].join('\n');
}

if (import.meta.main) {
  console.log(`${markdownTable()}\n\n---- .env.example ----\n${envExample()}`);
}
