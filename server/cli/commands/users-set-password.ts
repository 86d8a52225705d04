// latchkey users set-password <id|email> --password-stdin
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, findUserOrFail, readPasswordFromStdin, requirePasswordStdin, subcommand, type Runner } from './common.ts';

export function registerUsersSetPassword(users: Command, run: Runner): void {
  subcommand(users, 'set-password <user>', 'replace a user\'s password, by id or email')
    .option('--password-stdin', 'read the password from standard input')
    .action(run(async (ctx, [user], options) => {
      requirePasswordStdin(options);
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await findUserOrFail(accounts, user);
      const { trustedDevicesForgotten: forgotten } = await accounts.changePassword(account.id, await readPasswordFromStdin());
      const updated = (await accounts.findById(account.id)) ?? account;
      return {
        json: { ...accountJson(updated), trusted_devices_forgotten: forgotten },
        text: `Password changed for ${updated.email}; their existing sessions and tokens no longer work, ${forgotten} remembered device(s) forgotten; second factors are kept.`,
      };
    }));
}
