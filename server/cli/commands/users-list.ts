// latchkey users list
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { accountJson, subcommand, table, type Runner } from './common.ts';

export function registerUsersList(users: Command, run: Runner): void {
  subcommand(users, 'list', 'list user accounts')
    .action(run(async (ctx) => {
      const all = await createAccountService(ctx.db, ctx.config).list();
      const rows = all.map((a) => [a.id, a.email, a.name ?? '-', a.emailVerified ? 'yes' : 'no', a.disabled ? 'disabled' : 'enabled', a.requireMfa ? 'yes' : 'no']);
      return {
        json: { users: all.map(accountJson) },
        text: table(['ID', 'EMAIL', 'NAME', 'VERIFIED', 'STATUS', 'REQUIRE_MFA'], rows, 'No users. Create one with: latchkey users create'),
      };
    }));
}
