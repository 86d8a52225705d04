// latchkey users delete <id|email>
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { NotFoundError } from '../../errors.ts';
import { findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersDelete(users: Command, run: Runner): void {
  subcommand(users, 'delete <user>', 'delete a user, by id or email')
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await findUserOrFail(accounts, user);
      if (!(await accounts.delete(account.id))) throw new NotFoundError(`unknown user ${user}`);
      return { json: { deleted: true, id: account.id, email: account.email }, text: `Deleted user ${account.email} (${account.id}).` };
    }));
}
