// latchkey users reset-mfa <id|email>
// For a user who lost their factors (AccountService.resetMfa says what goes).
import type { Command } from 'commander';
import { createAccountService } from '../../accounts/account-service.ts';
import { findUserOrFail, subcommand, type Runner } from './common.ts';

const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "a, b and c" */
const joinList = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : items[0]);

export function registerUsersResetMfa(users: Command, run: Runner): void {
  subcommand(users, 'reset-mfa <user>', 'remove all second factors, recovery codes and remembered devices of a user, by id or email, and sign them out')
    .action(run(async (ctx, [user]) => {
      const accounts = createAccountService(ctx.db, ctx.config);
      const account = await findUserOrFail(accounts, user);
      const removed = await accounts.resetMfa(account.id);
      const what = joinList([
        counted(removed.totp, 'authenticator app', 'authenticator apps'),
        counted(removed.webauthn, 'security key', 'security keys'),
        counted(removed.recoveryCodes, 'recovery code', 'recovery codes'),
        counted(removed.trustedDevices, 'trusted device', 'trusted devices'),
      ]);
      return {
        json: {
          id: account.id,
          email: account.email,
          removed: {
            totp: removed.totp,
            webauthn: removed.webauthn,
            recovery_codes: removed.recoveryCodes,
            trusted_devices: removed.trustedDevices,
          },
          sessions_revoked: true,
        },
        text: `Removed ${what} from ${account.email}.\n`
          + `Signed out ${account.email} everywhere: existing sessions and tokens no longer work. `
          + 'They sign in with their password next and, where a second factor is required, set up a new one.',
      };
    }));
}
