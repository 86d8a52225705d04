// latchkey users disable <id|email>, latchkey users enable <id|email>:
// one switch (accounts.disabled), two commands.
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, subcommand, type Runner } from './common.ts';

function registerSetDisabled(users: Command, run: Runner, disabled: boolean, description: string): void {
  subcommand(users, `${disabled ? 'disable' : 'enable'} <user>`, description)
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await accounts.setDisabled((await findUserOrFail(accounts, user)).id, disabled);
      return { json: accountJson(account), text: `${disabled ? 'Disabled' : 'Enabled'} user ${account.email} (${account.id}).` };
    }));
}

export const registerUsersDisable = (users: Command, run: Runner): void =>
  registerSetDisabled(users, run, true, 'block sign-in for a user, by id or email');

export const registerUsersEnable = (users: Command, run: Runner): void =>
  registerSetDisabled(users, run, false, 'allow a disabled user to sign in again, by id or email');
