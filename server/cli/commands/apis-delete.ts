// latchkey apis delete <id|identifier>
import type { Command } from 'commander';
import { deleteApi, findApi } from '../../apis/api-queries.ts';
import { listClientIdsForApi } from '../../clients/client-queries.ts';
import { NotFoundError } from '../../errors.ts';
import { subcommand, type Runner } from './common.ts';

export function registerApisDelete(apis: Command, run: Runner): void {
  subcommand(apis, 'delete <api>', 'delete an API, by id or identifier (clients lose their grants on it)')
    .action(run(async (ctx, [idOrIdentifier]) => {
      const result = await ctx.db.transaction(async (tx) => {
        const api = await findApi(tx, idOrIdentifier);
        if (!api) throw new NotFoundError(`unknown API ${idOrIdentifier}`);
        const clientIds = await listClientIdsForApi(tx, api.id);
        await deleteApi(tx, api.id);
        return { api, clientIds };
      });
      const { api, clientIds } = result;
      const lost = clientIds.length ? `\n${clientIds.length} client(s) lost their grants on it: ${clientIds.join(', ')}` : '';
      return {
        json: { deleted: true, id: api.id, identifier: api.identifier, affected_client_ids: clientIds },
        text: `Deleted API ${api.identifier} (${api.id}).${lost}`,
      };
    }));
}
