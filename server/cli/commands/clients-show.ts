// latchkey clients show <client_id>  (never shows a secret or its hash)
import type { Command } from 'commander';
import { findClientById } from '../../clients/client-queries.ts';
import { NotFoundError } from '../../errors.ts';
import { clientJson, clientText, subcommand, type Runner } from './common.ts';

export function registerClientsShow(clients: Command, run: Runner): void {
  subcommand(clients, 'show <client_id>', 'show one client (its secret cannot be shown again)')
    .action(run(async (ctx, [clientId]) => {
      const client = await findClientById(ctx.db, clientId);
      if (!client) throw new NotFoundError(`unknown client ${clientId}`);
      return { json: clientJson(client), text: clientText(client) };
    }));
}
