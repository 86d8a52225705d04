// latchkey audit tail [--account] [--client] [--type] [--json]: prints audit
// events as they are stored (polling by id), until interrupted. --json prints
// one JSON object per line (the schema-1 event with its row id).
import type { Command } from 'commander';
import { lastEventId, listEvents } from '../../events/audit-store.ts';
import { parseDuration } from '../../config/duration.ts';
import { EVENT_HEADERS, eventRow, filterOf, withFilterOptions } from './audit-format.ts';
import type { Runner } from './common.ts';

export function registerAuditTail(audit: Command, run: Runner): void {
  withFilterOptions(audit.command('tail').description('follow audit events as they are stored (Ctrl-C ends); --since first prints the older ones'))
    .option('--json', 'one JSON object per line')
    .option('--interval <duration>', 'how often to look for new events', '1s')
    .action(run(async (ctx, _args, options) => {
      const filter = filterOf(options);
      const intervalMs = parseDuration(options.interval) * 1000;
      const write = (line: string) => process.stdout.write(`${line}\n`);
      // Without --since, only what is stored from now on.
      let after = filter.since ? 0 : await lastEventId(ctx.db);
      if (!options.json) write(EVENT_HEADERS.join('  '));
      let stopped = false;
      let wake: () => void = () => {};
      const stop = () => { stopped = true; wake(); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      while (!stopped) {
        const events = await listEvents(ctx.db, { ...filter, afterId: after, limit: 1000 });
        for (const event of events) write(options.json ? JSON.stringify(event) : eventRow(event).join('  '));
        after = events.at(-1)?.id ?? after;
        if (events.length === 1000) continue; // more are waiting
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, intervalMs);
        });
      }
      return { json: {}, text: '' };
    }, { prints: false }));
}
