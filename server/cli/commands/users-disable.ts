// latchkey users disable <id|email>
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersDisable(users: Command, run: Runner): void {
  subcommand(users, 'disable <user>', 'block sign-in for a user, by id or email')
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await accounts.setDisabled((await findUserOrFail(accounts, user)).id, true);
      return { json: accountJson(account), text: `Disabled user ${account.email} (${account.id}).` };
    }));
}
