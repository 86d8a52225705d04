// latchkey audit list [--account <id>] [--client <id>] [--type <type>] [--since <when>] [--limit <n>]
import type { Command } from 'commander';
import { listEvents } from '../../events/audit-store.ts';
import { UserError } from '../../errors.ts';
import { EVENT_HEADERS, eventRow, filterOf, withFilterOptions } from './audit-format.ts';
import { subcommand, table, type Runner } from './common.ts';

export function registerAuditList(audit: Command, run: Runner): void {
  withFilterOptions(subcommand(audit, 'list', 'the newest audit events matching the filters, oldest first'))
    .option('--limit <n>', 'at most this many (newest kept)', '100')
    .action(run(async (ctx, _args, options) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UserError('--limit must be a whole number from 1 to 10000');
      const events = await listEvents(ctx.db, { ...filterOf(options), limit });
      return {
        json: { events },
        text: table(EVENT_HEADERS, events.map(eventRow), 'No audit events match.'),
      };
    }));
}
