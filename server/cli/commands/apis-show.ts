// latchkey apis show <id|identifier>
import type { Command } from 'commander';
import { findApi } from '../../apis/api-queries.ts';
import { NotFoundError } from '../../errors.ts';
import { apiJson, apiText, subcommand, type Runner } from './common.ts';

export function registerApisShow(apis: Command, run: Runner): void {
  subcommand(apis, 'show <api>', 'show one API, by id or identifier')
    .action(run(async (ctx, [idOrIdentifier]) => {
      const api = await findApi(ctx.db, idOrIdentifier);
      if (!api) throw new NotFoundError(`unknown API ${idOrIdentifier}`);
      return { json: apiJson(api), text: apiText(api) };
    }));
}
