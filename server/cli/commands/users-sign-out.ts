// latchkey users sign-out <id|email>
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersSignOut(users: Command, run: Runner): void {
  subcommand(users, 'sign-out <user>', 'end every session and token of a user, by id or email (they can sign in again)')
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const { id } = await findUserOrFail(accounts, user);
      await accounts.signOutEverywhere(id);
      const account = (await accounts.findById(id))!;
      return { json: accountJson(account), text: `Signed out ${account.email} (${account.id}) everywhere: existing sessions and tokens no longer work.` };
    }));
}
