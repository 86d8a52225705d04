// latchkey users require-mfa <id|email> [--off]
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, subcommand, type Runner } from './common.ts';

export function registerUsersRequireMfa(users: Command, run: Runner): void {
  subcommand(users, 'require-mfa <user>', 'make a user, by id or email, sign in with a second factor (enrolling one at next sign-in)')
    .option('--off', 'no longer require it (MFA_POLICY and the client decide again)')
    .action(run(async (ctx, [user], options) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const required = !options.off;
      const account = await accounts.setRequireMfa((await findUserOrFail(accounts, user)).id, required);
      const text = required
        ? `${account.email} (${account.id}) must now sign in with a second factor; without one they set it up at their next sign-in.`
        : `${account.email} (${account.id}) no longer has to use a second factor (MFA_POLICY and the client still may require one).`;
      return { json: accountJson(account), text };
    }));
}
