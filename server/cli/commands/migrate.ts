// latchkey migrate: applies pending database migrations (every other command does too).
import type { Command } from 'commander';
import { migrate } from '../../db/migrate.ts';
import { type Runner } from './common.ts';

export function registerMigrate(program: Command, run: Runner): void {
  program.command('migrate').description('apply pending database migrations').option('--json', 'print one JSON object')
    .action(run(async (ctx) => {
      const applied = await migrate(ctx.db);
      const names = applied.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`);
      return {
        json: { applied: applied.map((m) => ({ version: m.version, name: m.name })) },
        text: names.length ? `Applied ${names.join(', ')}.` : 'Database schema is up to date.',
      };
    }, { migrate: false }));
}
