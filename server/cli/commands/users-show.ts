// latchkey users show <id|email>
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, accountText, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersShow(users: Command, run: Runner): void {
  subcommand(users, 'show <user>', 'show one user, by id or email')
    .action(run(async (ctx, [user]) => {
      const account = await findUserOrFail(createAccountService(ctx.db, ctx.config), user);
      return { json: accountJson(account), text: accountText(account) };
    }));
}
