// latchkey clients list
import type { Command } from 'commander';
import { listClients } from '../../clients/client-queries.ts';
import { clientJson, subcommand, table, type Runner } from './common.ts';

export function registerClientsList(clients: Command, run: Runner): void {
  subcommand(clients, 'list', 'list registered clients')
    .action(run(async (ctx) => {
      const all = await listClients(ctx.db);
      const yesNo = (value: boolean) => (value ? 'yes' : 'no');
      const rows = all.map((c) => [c.clientId, c.name, c.tokenEndpointAuthMethod, yesNo(c.requireMfa), yesNo(c.trustedDevices), c.grantTypes.join(' ')]);
      return {
        json: { clients: all.map(clientJson) },
        text: table(['CLIENT_ID', 'NAME', 'AUTH', 'REQUIRE_MFA', 'TRUSTED_DEVICES', 'GRANTS'], rows, 'No clients. Create one with: latchkey clients create'),
      };
    }));
}
