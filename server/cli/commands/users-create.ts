// latchkey users create --email <e> [--name <n>] --password-stdin [--email-verified]
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, accountText, readPasswordFromStdin, requirePasswordStdin, subcommand, type Runner } from './common.ts';

export function registerUsersCreate(users: Command, run: Runner): void {
  subcommand(users, 'create', 'create a user account')
    .requiredOption('--email <email>', 'sign-in email (unique, case-insensitive)')
    .option('--name <name>', 'display name (optional)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--email-verified', 'mark the email as verified')
    .action(run(async (ctx, _args, options) => {
      requirePasswordStdin(options);
      const password = await readPasswordFromStdin();
      const account = await createAccountService(ctx.db, ctx.config).create({
        email: options.email,
        name: options.name,
        emailVerified: Boolean(options.emailVerified),
        password,
      });
      return { json: accountJson(account), text: `User created.\n${accountText(account)}` };
    }));
}
