// latchkey clients update <client_id> [--name <n>] [--redirect-uri <u>...] [--post-logout-redirect-uri <u>... | --no-post-logout-redirect-uri]
//   [--first-party | --no-first-party] [--require-mfa | --no-require-mfa] [--trusted-devices | --no-trusted-devices]
// The new values pass the same checks as `clients create` (validateClientChanges);
// running servers pick the change up through cache_generation.
import type { Command } from 'commander';
import { findClientById, updateClient } from '../../clients/client-queries.ts';
import type { ClientChanges } from '../../clients/types.ts';
import { validateClientChanges } from '../../clients/validate.ts';
import { isStorableText } from '../../db/text.ts';
import { NotFoundError, UserError } from '../../errors.ts';
import { clientJson, clientText, collect, subcommand, type Options, type Runner } from './common.ts';

const CHANGE_OPTIONS = '--name, --redirect-uri, --post-logout-redirect-uri, --[no-]first-party, --[no-]require-mfa, --[no-]trusted-devices';

function changesFrom(options: Options): ClientChanges {
  const changes: ClientChanges = {};
  if (options.name !== undefined) changes.name = options.name.trim();
  if (options.redirectUri !== undefined) changes.redirectUris = options.redirectUri;
  // --no-post-logout-redirect-uri sets false: remove them all.
  if (options.postLogoutRedirectUri === false) changes.postLogoutRedirectUris = [];
  else if (options.postLogoutRedirectUri !== undefined) changes.postLogoutRedirectUris = options.postLogoutRedirectUri;
  if (options.firstParty !== undefined) changes.firstParty = options.firstParty;
  if (options.requireMfa !== undefined) changes.requireMfa = options.requireMfa;
  if (options.trustedDevices !== undefined) changes.trustedDevices = options.trustedDevices;
  return changes;
}

export function registerClientsUpdate(clients: Command, run: Runner): void {
  subcommand(clients, 'update <client_id>', 'change a client\'s name, redirect URIs, consent or MFA settings')
    .option('--name <name>', 'new display name')
    .option('--redirect-uri <uri>', 'allowed redirect URI (repeatable; replaces the current list)', collect)
    .option('--post-logout-redirect-uri <uri>', 'allowed post-logout redirect URI (repeatable; replaces the current list)', collect)
    .option('--no-post-logout-redirect-uri', 'remove every post-logout redirect URI')
    .option('--first-party', 'first-party app: consent is not asked')
    .option('--no-first-party', 'third-party app: consent is asked')
    .option('--require-mfa', 'sign-ins for this client need a second factor')
    .option('--no-require-mfa', 'the second factor follows MFA_POLICY and the user\'s settings')
    .option('--trusted-devices', 'a remembered device may stand in for the second factor')
    .option('--no-trusted-devices', 'always ask for the second factor')
    .action(run(async (ctx, [clientId], options) => {
      const changes = changesFrom(options);
      if (Object.keys(changes).length === 0) throw new UserError(`nothing to update: give at least one of ${CHANGE_OPTIONS}`);
      const updated = await ctx.db.transaction(async (tx) => {
        if (!isStorableText(clientId)) throw new NotFoundError(`unknown client ${clientId}`);
        await tx.query('SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE', [clientId]); // serialise concurrent updates
        const client = await findClientById(tx, clientId);
        if (!client) throw new NotFoundError(`unknown client ${clientId}`);
        validateClientChanges(client, changes);
        return updateClient(tx, clientId, changes);
      });
      return { json: clientJson(updated), text: `Client updated.\n${clientText(updated)}` };
    }));
}
