// The README configuration table and .env.example, generated from SETTINGS.
// `npm run config:docs` prints both; test/unit/config-docs.test.ts checks
// that the committed files match.
import { fileVariable } from './secret-files.ts';
import { SETTINGS, type Setting } from './settings.ts';

const settings: readonly Setting[] = SETTINGS;
const plain = (text: string) => text.replace(/`/g, '');

/** A secret setting can also come from a file (Docker and Kubernetes secrets): said on its own row. */
function description(s: Setting): string {
  return s.secret ? `${s.description}; or \`${fileVariable(s.name)}\`: a file holding it` : s.description;
}

function defaultCell(s: Setting): string {
  if (s.default === undefined) return '—';
  return s.productionDefault === undefined ? `\`${s.default}\`` : `\`${s.default}\` (production: \`${s.productionDefault}\`)`;
}

export function markdownTable(): string {
  return [
    '| variable | default | meaning |',
    '|---|---|---|',
    ...settings.map((s) => `| \`${s.name}\` | ${defaultCell(s)} | ${description(s)} |`),
  ].join('\n');
}

/**
 * A default that depends on NODE_ENV stays commented out: a `.env` copied from
 * the example and switched to production must not pin development's value.
 */
function envLine(s: Setting): string {
  const line = s.default === undefined || s.productionDefault !== undefined ? `# ${s.name}=` : `${s.name}=${s.default}`;
  return s.secret ? `${line}\n# ${fileVariable(s.name)}=` : line;
}

function envComment(s: Setting): string {
  const defaults = s.productionDefault === undefined ? '' : ` (default ${s.default}; production ${s.productionDefault})`;
  return `# ${plain(description(s))}${defaults}`;
}

export function envExample(): string {
  return [
    '# Latchkey configuration. Every setting is optional in development;',
    '# production (NODE_ENV=production) requires LATCHKEY_SECRET, DATABASE_URL, Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES) and an https ISSUER.',
    '# Copy it to .env: the server and the CLI read .env from the folder they run in; the environment wins over it.',
    '# A secret setting X can instead be read from a file named by X_FILE (Docker and Kubernetes secrets); setting both is an error.',
    '',
    ...settings.flatMap((s) => [envComment(s), envLine(s), '']),
  ].join('\n');
}

if (import.meta.main) {
  console.log(`${markdownTable()}\n\n---- .env.example ----\n${envExample()}`);
}
