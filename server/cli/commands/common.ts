// Shared by the command files: the context a command runs in, the result it
// returns (printed by main.ts as JSON or text), and output/lookup helpers.
import type { Command } from 'commander';
import type { Account } from '../../accounts/types.ts';
import type { Api } from '../../apis/types.ts';
import type { Client } from '../../clients/types.ts';
import type { Config } from '../../config/index.ts';
import { formatDuration } from '../../config/duration.ts';
import type { Keyring } from '../../crypto/master-key.ts';
import type { Database } from '../../db/database.ts';
import type { Factor } from '../../mfa/types.ts';
import { found } from '../../db/rows.ts';
import { UserError } from '../../errors.ts';

export interface CliContext {
  config: Config;
  db: Database;
  /** Derived on first use (embedded mode may create DATA_DIR/master.key). */
  keyring(): Keyring;
}

/** `json` is printed with --json (one object, snake_case keys), `text` otherwise. */
export interface CommandResult {
  json: Record<string, unknown>;
  text: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander's option bag: each command reads its own typed options
export type Options = Record<string, any>;
export type Action = (ctx: CliContext, args: string[], options: Options) => Promise<CommandResult>;
export interface RunSettings {
  /** False for `migrate`, which applies migrations itself. */
  migrate?: boolean;
  /** False for `audit tail`, which prints as it goes. */
  prints?: boolean;
}
/** Wraps an Action into a commander action handler (supplied by main.ts). */
export type Runner = (action: Action, settings?: RunSettings) => (...args: unknown[]) => Promise<void>;

/** A subcommand with the --json flag every command takes. */
export const subcommand = (group: Command, nameAndArgs: string, description: string): Command =>
  group.command(nameAndArgs).description(description).option('--json', 'print one JSON object');

/** Collects a repeatable option into an array (after a --no-... negation too, which sets false). */
export const collect = (value: string, previous: string[] | boolean = []): string[] =>
  [...(Array.isArray(previous) ? previous : []), value];

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export const apiJson = (api: Api) => ({
  id: api.id,
  identifier: api.identifier,
  name: api.name,
  scopes: api.scopes,
  access_token_ttl: api.accessTokenTtl,
  created_at: iso(api.createdAt),
});

/** Never includes a secret or a secret hash. */
export function clientJson(client: Client) {
  const previousValid = client.previousSecretHash && client.previousSecretExpiresAt
    && client.previousSecretExpiresAt > new Date();
  return {
    client_id: client.clientId,
    name: client.name,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    first_party: client.firstParty,
    require_mfa: client.requireMfa,
    trusted_devices: client.trustedDevices,
    id_token_signed_response_alg: client.idTokenAlg,
    apis: client.apis.map((grant) => ({ identifier: grant.apiIdentifier, scopes: grant.scopes })),
    jwks: client.jwks,
    previous_secret_expires_at: previousValid ? iso(client.previousSecretExpiresAt) : null,
    created_at: iso(client.createdAt),
  };
}

export const accountJson = (account: Account) => ({
  id: account.id,
  email: account.email,
  email_verified: account.emailVerified,
  name: account.name,
  disabled: account.disabled,
  require_mfa: account.requireMfa,
  sessions_revoked_at: account.sessionsRevokedAt ? iso(account.sessionsRevokedAt) : null,
  created_at: iso(account.createdAt),
  updated_at: iso(account.updatedAt),
});

const FACTOR_KINDS: Record<Factor['kind'], string> = { totp: 'authenticator app', webauthn: 'security key' };

export const factorJson = (factor: Factor) => ({
  id: factor.id,
  kind: factor.kind,
  name: factor.name,
  ...(factor.kind === 'webauthn' ? { synced: Boolean(factor.synced) } : {}),
  created_at: iso(factor.createdAt),
  last_used_at: iso(factor.lastUsedAt),
});

/** One line per factor: kind, name, last use. */
export function factorsText(factors: Factor[]): string {
  if (factors.length === 0) return '(none)';
  return factors.map((factor) => {
    const kind = factor.kind === 'webauthn' && factor.synced ? 'synced passkey' : FACTOR_KINDS[factor.kind];
    return `${factor.name} (${kind}), last used ${iso(factor.lastUsedAt) ?? 'never'}`;
  }).join('\n');
}

/** "key   value" lines with the values aligned. */
export function fields(pairs: [string, string | number | boolean | null | undefined][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  // A multi-line value continues under its first line.
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${String(value ?? '-').replaceAll('\n', `\n${' '.repeat(width + 2)}`)}`).join('\n');
}

/** A header row and aligned columns; `empty` when there are no rows. */
export function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return empty;
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

export const apiText = (api: Api): string => fields([
  ['id', api.id],
  ['identifier', api.identifier],
  ['name', api.name],
  ['scopes', api.scopes.join(' ') || '(none)'],
  ['access_token_ttl', formatDuration(api.accessTokenTtl)],
  ['created_at', iso(api.createdAt)],
]);

export function clientText(client: Client, secret?: [string, string][]): string {
  const json = clientJson(client);
  return fields([
    ['client_id', client.clientId],
    ...(secret ?? []),
    ['name', client.name],
    ['auth', client.tokenEndpointAuthMethod],
    ['grants', client.grantTypes.join(' ')],
    ['redirect_uris', client.redirectUris.join(' ') || '-'],
    ['post_logout_uris', client.postLogoutRedirectUris.join(' ') || '-'],
    ['first_party', client.firstParty ? 'yes' : 'no'],
    ['require_mfa', client.requireMfa ? 'yes' : 'no'],
    ['trusted_devices', client.trustedDevices ? 'yes' : 'no'],
    ['id_token_alg', client.idTokenAlg],
    ['apis', client.apis.map((g) => `${g.apiIdentifier} (${g.scopes.join(' ') || 'no scopes'})`).join(', ') || '-'],
    ...(json.previous_secret_expires_at ? [['previous_secret', `valid until ${json.previous_secret_expires_at}`] as [string, string]] : []),
    ['created_at', json.created_at],
  ]);
}

export const accountText = (account: Account, extra: [string, string][] = []): string => fields([
  ['id', account.id],
  ['email', account.email],
  ['email_verified', account.emailVerified ? 'yes' : 'no'],
  ['name', account.name],
  ['status', account.disabled ? 'disabled' : 'enabled'],
  ['require_mfa', account.requireMfa ? 'yes' : 'no'],
  ['created_at', iso(account.createdAt)],
  ['updated_at', iso(account.updatedAt)],
  ...extra,
]);

/** The whole of stdin minus ONE trailing newline (a password may end in spaces). */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new UserError('no password on standard input');
  return password;
}

export function requirePasswordStdin(options: Options): void {
  if (!options.passwordStdin) {
    throw new UserError('use --password-stdin and pipe the password (e.g. printf %s "$PASSWORD" | latchkey ...)');
  }
}

/** Users are named by id or by email (anything with an @). */
export async function findUserOrFail(
  accounts: { findById(id: string): Promise<Account | undefined>; findByEmail(email: string): Promise<Account | undefined> },
  idOrEmail: string,
): Promise<Account> {
  return found(idOrEmail.includes('@') ? await accounts.findByEmail(idOrEmail) : await accounts.findById(idOrEmail), `user ${idOrEmail}`);
}

/**
 * `<group> show <name>`: the one record `find` returns for the argument, as
 * JSON or text; "unknown <what> <name>" when there is none.
 */
export function registerShow<T>(group: Command, run: Runner, show: {
  usage: string;
  description: string;
  what: string;
  find: (db: Database, name: string) => Promise<T | undefined>;
  json: (record: T) => Record<string, unknown>;
  text: (record: T) => string;
}): void {
  subcommand(group, show.usage, show.description)
    .action(run(async (ctx, [name]) => {
      const record = found(await show.find(ctx.db, name), `${show.what} ${name}`);
      return { json: show.json(record), text: show.text(record) };
    }));
}
