// latchkey users show <id|email>  (with the user's second factors)
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { createFactorDirectory } from '../../mfa/factor-directory.ts';
import { accountJson, accountText, factorJson, factorsText, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersShow(users: Command, run: Runner): void {
  subcommand(users, 'show <user>', 'show one user, by id or email, with their second factors')
    .action(run(async (ctx, [user]) => {
      const account = await findUserOrFail(createAccountService(ctx.db, ctx.config), user);
      const factors = await createFactorDirectory(ctx.db).list(account.id);
      return {
        json: { ...accountJson(account), factors: factors.map(factorJson) },
        text: accountText(account, [['factors', factorsText(factors)]]),
      };
    }));
}
