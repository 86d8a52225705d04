// latchkey clients delete <client_id>
import type { Command } from 'commander';
import { deleteClient } from '../../clients/client-queries.ts';
import { NotFoundError } from '../../errors.ts';
import { subcommand, type Runner } from './common.ts';

export function registerClientsDelete(clients: Command, run: Runner): void {
  subcommand(clients, 'delete <client_id>', 'delete a client')
    .action(run(async (ctx, [clientId]) => {
      if (!(await deleteClient(ctx.db, clientId))) throw new NotFoundError(`unknown client ${clientId}`);
      return { json: { deleted: true, client_id: clientId }, text: `Deleted client ${clientId}.` };
    }));
}
