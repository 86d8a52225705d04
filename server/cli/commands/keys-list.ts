// latchkey keys list: signing keys, newest first as the key store returns them.
import type { Command } from 'commander';
import { subcommand, table, type Runner } from './common.ts';

export function registerKeysList(keys: Command, run: Runner): void {
  subcommand(keys, 'list', 'list token signing keys')
    .action(run(async (ctx) => {
      // Loaded on use so the other commands do not pay for the crypto imports.
      const { listSigningKeys } = await import('../../keys/key-store.ts');
      const all = await listSigningKeys(ctx.db);
      const now = Date.now();
      const status = (k: (typeof all)[number]) => (k.active ? 'signing' : k.activatesAt.getTime() > now ? 'published, not yet signing' : 'retired');
      const rows = all.map((k) => [k.kid, k.alg, status(k), k.createdAt.toISOString(), k.activatesAt.toISOString(), k.retiredAt?.toISOString() ?? '-']);
      return {
        json: {
          keys: all.map((k) => ({
            kid: k.kid, alg: k.alg, active: k.active, status: status(k),
            created_at: k.createdAt.toISOString(), activates_at: k.activatesAt.toISOString(), retired_at: k.retiredAt?.toISOString() ?? null,
          })),
        },
        text: table(['KID', 'ALG', 'STATUS', 'CREATED_AT', 'ACTIVATES_AT', 'RETIRED_AT'], rows, 'No signing keys yet (the server creates them on first start).'),
      };
    }));
}
