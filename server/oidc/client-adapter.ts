// The oidc-provider adapter for the Client model: read-only, served from the
// cached clients table (clients are managed with the CLI, not registration).
// Known clients are static clients of the Provider (see provider-host.ts);
// this answers for clients created since the Provider was last built, so a
// new client works the moment the CLI has created it.
import type { ClientLookup } from '../clients/types.ts';
import { toClientMetadata } from './client-metadata.ts';

export function createClientAdapter(clients: ClientLookup) {
  const readOnly = async () => {
    throw new Error('clients are managed with the latchkey CLI');
  };
  return {
    async find(id: string) {
      const client = await clients.findById(id);
      return client ? toClientMetadata(client) : undefined;
    },
    upsert: readOnly,
    destroy: readOnly,
    consume: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}
