// `latchkey`: the admin CLI. Every command loads the server's configuration
// (same env vars), opens the database, applies pending migrations, runs, and
// prints either text or exactly one JSON object (--json). Errors are one line
// on stderr ("latchkey: ...") with exit status 1.
import { Command, CommanderError } from 'commander';
import { loadEnvFile } from '../config/env-file.ts';
import { loadConfig } from '../config/index.ts';
import { buildKeyring, loadMasterKey, type Keyring } from '../crypto/master-key.ts';
import { openCliDatabase } from '../db/connect.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { oneLine } from '../errors.ts';
import { VERSION } from '../version.ts';
import { adminChangeEvent, commandPath, isChange, recordAdminChange } from './admin-change.ts';
import { announceAccountChange } from './announce-account-change.ts';
import { registerAuditList } from './commands/audit-list.ts';
import { registerAuditTail } from './commands/audit-tail.ts';
import { registerApisCreate } from './commands/apis-create.ts';
import { registerApisDelete } from './commands/apis-delete.ts';
import { registerApisList } from './commands/apis-list.ts';
import { registerApisShow } from './commands/apis-show.ts';
import { registerClientsCreate } from './commands/clients-create.ts';
import { registerClientsDelete } from './commands/clients-delete.ts';
import { registerClientsList } from './commands/clients-list.ts';
import { registerClientsRotateSecret } from './commands/clients-rotate-secret.ts';
import { registerClientsShow } from './commands/clients-show.ts';
import { registerClientsUpdate } from './commands/clients-update.ts';
import type { CliContext, Runner } from './commands/common.ts';
import { registerKeysList } from './commands/keys-list.ts';
import { registerKeysRotate } from './commands/keys-rotate.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerUsersCreate } from './commands/users-create.ts';
import { registerUsersDelete } from './commands/users-delete.ts';
import { registerUsersDisable, registerUsersEnable } from './commands/users-enable-disable.ts';
import { registerUsersList } from './commands/users-list.ts';
import { registerUsersRequireMfa } from './commands/users-require-mfa.ts';
import { registerUsersResetMfa } from './commands/users-reset-mfa.ts';
import { registerUsersSetPassword } from './commands/users-set-password.ts';
import { registerUsersShow } from './commands/users-show.ts';
import { registerUsersSignOut } from './commands/users-sign-out.ts';

const run: Runner = (action, settings = {}) => async (...actionArgs) => {
  const command = actionArgs.at(-1) as Command;
  const args = actionArgs.slice(0, -2) as string[];
  const options = command.opts();
  const config = loadConfig();
  let db: Database | undefined;
  try {
    db = await openCliDatabase(config);
    if (settings.migrate !== false) await migrate(db);
    let keyring: Keyring | undefined;
    const ctx: CliContext = { config, db, keyring: () => (keyring ??= buildKeyring(loadMasterKey(config), config)) };
    const result = await action(ctx, args, options);
    if (settings.prints !== false) process.stdout.write(options.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    const path = commandPath(command);
    // After the answer (it may hold a secret shown once); a change missing from the audit trail still fails the command.
    // The audit row first: telling the servers through Redis may fail, and the change is made either way.
    if (isChange(path)) {
      await recordAdminChange(db, adminChangeEvent(path, args, result.json)).catch((error) => {
        throw new Error(`the change was made, but recording it in the audit trail failed: ${oneLine(error)}`);
      });
      if (path.startsWith('users ')) await announceAccountChange(config, result.json);
    }
  } finally {
    await db?.close();
  }
};

/** A command group: without a (known) subcommand it fails in one line rather than printing help. */
function group(program: Command, name: string, description: string): Command {
  // The [command] argument catches unknown names; usage() keeps commander from adding its own "[command]" again.
  const cmd = program.command(name).description(description).argument('[command]').usage('<command> [options]');
  return cmd.action((sub: string | undefined) => {
    const names = cmd.commands.map((c) => c.name()).join(', ');
    cmd.error(sub ? `unknown command '${name} ${sub}' (use ${names})` : `'${name}' needs a command: ${names}`);
  });
}

function buildProgram(): Command {
  const program = new Command('latchkey')
    .description('Latchkey administration: APIs, clients, users and their second factors, signing keys, the audit trail')
    .version(VERSION, '-V, --version', 'print the version')
    // A misspelt option or a stray argument is an error naming it, never ignored
    // (commander's defaults, stated; subcommands inherit the second).
    .allowUnknownOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      // Commander's usage errors become the same single line as ours.
      outputError: (message, write) => write(`latchkey: ${oneLine(message.replace(/^error: /, ''))}\n`),
    });

  const apis = group(program, 'apis', 'APIs (resource servers) that access tokens are issued for');
  registerApisCreate(apis, run);
  registerApisList(apis, run);
  registerApisShow(apis, run);
  registerApisDelete(apis, run);

  const clients = group(program, 'clients', 'OAuth clients');
  registerClientsCreate(clients, run);
  registerClientsList(clients, run);
  registerClientsShow(clients, run);
  registerClientsUpdate(clients, run);
  registerClientsRotateSecret(clients, run);
  registerClientsDelete(clients, run);

  const users = group(program, 'users', 'user accounts');
  registerUsersCreate(users, run);
  registerUsersList(users, run);
  registerUsersShow(users, run);
  registerUsersDisable(users, run);
  registerUsersEnable(users, run);
  registerUsersSetPassword(users, run);
  registerUsersSignOut(users, run);
  registerUsersRequireMfa(users, run);
  registerUsersResetMfa(users, run);
  registerUsersDelete(users, run);

  const keys = group(program, 'keys', 'token signing keys');
  registerKeysList(keys, run);
  registerKeysRotate(keys, run);

  const audit = group(program, 'audit', 'the audit trail: security events and admin changes');
  registerAuditList(audit, run);
  registerAuditTail(audit, run);

  registerMigrate(program, run);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    loadEnvFile(); // the server's settings, read the same way
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander already printed its message (or help/version, exit code 0).
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`latchkey: ${oneLine(error)}\n`);
    if (process.env.LATCHKEY_DEBUG) console.error(error);
    return 1;
  }
}

process.exit(await main(process.argv));
