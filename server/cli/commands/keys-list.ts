// latchkey keys list: signing keys, newest first as the key store returns them.
import type { Command } from 'commander';
import { subcommand, table, type Runner } from './common.ts';

export function registerKeysList(keys: Command, run: Runner): void {
  subcommand(keys, 'list', 'list token signing keys')
    .action(run(async (ctx) => {
      // Loaded on use so the other commands do not pay for the crypto imports.
      const { listSigningKeys } = await import('../../keys/key-store.ts');
      const all = await listSigningKeys(ctx.db);
      const rows = all.map((k) => [k.kid, k.alg, k.active ? 'active' : 'retired', k.createdAt.toISOString(), k.retiredAt?.toISOString() ?? '-']);
      return {
        json: {
          keys: all.map((k) => ({
            kid: k.kid, alg: k.alg, active: k.active,
            created_at: k.createdAt.toISOString(), retired_at: k.retiredAt?.toISOString() ?? null,
          })),
        },
        text: table(['KID', 'ALG', 'STATUS', 'CREATED_AT', 'RETIRED_AT'], rows, 'No signing keys yet (the server creates them on first start).'),
      };
    }));
}
