// latchkey users enable <id|email>
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersEnable(users: Command, run: Runner): void {
  subcommand(users, 'enable <user>', 'allow a disabled user to sign in again, by id or email')
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await accounts.setDisabled((await findUserOrFail(accounts, user)).id, false);
      return { json: accountJson(account), text: `Enabled user ${account.email} (${account.id}).` };
    }));
}
