// latchkey keys rotate [--activate-in 1m]: new signing keys take over; the old
// ones stay published to verify existing tokens.
import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.ts';
import { UserError } from '../../errors.ts';
import { subcommand, type Runner } from './common.ts';

/** "0" (now) or a duration. */
function parseDelay(value: string): number {
  if (value.trim() === '0') return 0;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new UserError(`--activate-in: ${(error as Error).message}`);
  }
}

export function registerKeysRotate(keys: Command, run: Runner): void {
  subcommand(keys, 'rotate', 'generate new signing keys and retire the current ones')
    .option('--activate-in <duration>', 'publish the new keys now, sign with them after this (e.g. 1m with several servers)', '0')
    .action(run(async (ctx, _args, options) => {
      const delay = parseDelay(options.activateIn);
      const { rotateSigningKeys } = await import('../../keys/key-store.ts');
      const created = await rotateSigningKeys(ctx.db, ctx.keyring().encryption, delay);
      const activatesAt = new Date(Date.now() + delay * 1000).toISOString();
      return {
        json: { keys: created.map((k) => ({ kid: k.kid, alg: k.alg, activates_at: activatesAt })) },
        text: `New signing keys: ${created.map((k) => `${k.kid} (${k.alg})`).join(', ')}; ${delay ? `published now, signing from ${activatesAt}` : 'signing now'}.`,
      };
    }));
}
