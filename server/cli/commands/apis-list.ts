// latchkey apis list
import type { Command } from 'commander';
import { listApis } from '../../apis/api-queries.ts';
import { formatDuration } from '../../config/duration.ts';
import { apiJson, subcommand, table, type Runner } from './common.ts';

export function registerApisList(apis: Command, run: Runner): void {
  subcommand(apis, 'list', 'list registered APIs')
    .action(run(async (ctx) => {
      const all = await listApis(ctx.db);
      const rows = all.map((api) => [api.id, api.identifier, api.name ?? '-', formatDuration(api.accessTokenTtl), api.scopes.join(' ')]);
      return {
        json: { apis: all.map(apiJson) },
        text: table(['ID', 'IDENTIFIER', 'NAME', 'TTL', 'SCOPES'], rows, 'No APIs. Create one with: latchkey apis create'),
      };
    }));
}
