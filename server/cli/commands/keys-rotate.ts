// latchkey keys rotate: new signing keys take over; the old ones stay published to verify existing tokens.
import type { Command } from 'commander';
import { subcommand, type Runner } from './common.ts';

export function registerKeysRotate(keys: Command, run: Runner): void {
  subcommand(keys, 'rotate', 'generate new signing keys and retire the current ones')
    .action(run(async (ctx) => {
      const { rotateSigningKeys } = await import('../../keys/key-store.ts');
      const created = await rotateSigningKeys(ctx.db, ctx.keyring().encryption);
      return {
        json: { keys: created.map((k) => ({ kid: k.kid, alg: k.alg })) },
        text: `New signing keys: ${created.map((k) => `${k.kid} (${k.alg})`).join(', ')}.`,
      };
    }));
}
