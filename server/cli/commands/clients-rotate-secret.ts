// latchkey clients rotate-secret <client_id> [--grace 1h]
// The old secret keeps working for the grace period so deployments can roll over.
import type { Command } from 'commander';
import { findClientById, setClientSecret } from '../../clients/client-queries.ts';
import { usesClientSecret } from '../../clients/validate.ts';
import { formatDuration, parseDuration } from '../../config/duration.ts';
import { hashSecret, randomSecret } from '../../crypto/secrets.ts';
import { NotFoundError, UserError } from '../../errors.ts';
import { fields, subcommand, type Runner } from './common.ts';

const MAX_GRACE = 30 * 86400; // a longer overlap would defeat the rotation

function parseGrace(input: string): number {
  if (/^\s*0+[smhd]?\s*$/.test(input)) return 0; // revoke the old secret at once
  let seconds: number;
  try {
    seconds = parseDuration(input);
  } catch (error) {
    throw new UserError(`--grace ${(error as Error).message}`);
  }
  if (seconds > MAX_GRACE) throw new UserError(`--grace must be at most ${formatDuration(MAX_GRACE)}`);
  return seconds;
}

export function registerClientsRotateSecret(clients: Command, run: Runner): void {
  subcommand(clients, 'rotate-secret <client_id>', 'issue a new client secret (printed once); the old one expires after --grace')
    .option('--grace <duration>', 'how long the old secret stays valid; 0 revokes it now (default ROTATED_SECRET_GRACE)')
    .action(run(async (ctx, [clientId], options) => {
      const grace = options.grace === undefined ? ctx.config.ttl.rotatedSecretGrace : parseGrace(options.grace);
      const secret = randomSecret();
      const expiresAt = await ctx.db.transaction(async (tx) => {
        await tx.query('SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE', [clientId]); // serialise concurrent rotations
        const client = await findClientById(tx, clientId);
        if (!client) throw new NotFoundError(`unknown client ${clientId}`);
        if (!usesClientSecret(client.tokenEndpointAuthMethod) || !client.secretHash) {
          throw new UserError(`client ${clientId} authenticates with ${client.tokenEndpointAuthMethod} and has no secret to rotate`);
        }
        const until = grace > 0 ? new Date(Date.now() + grace * 1000) : null;
        await setClientSecret(tx, clientId, hashSecret(ctx.keyring().secretHash, secret), until ? client.secretHash : null, until);
        return until;
      });
      const previous = expiresAt ? `valid until ${expiresAt.toISOString()}` : 'revoked';
      return {
        json: { client_id: clientId, client_secret: secret, previous_secret_expires_at: expiresAt?.toISOString() ?? null },
        text: `New secret issued.\n${fields([
          ['client_id', clientId],
          ['client_secret', `${secret}  (shown once: store it now)`],
          ['previous_secret', previous],
        ])}`,
      };
    }));
}
