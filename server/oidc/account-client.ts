// The account page (/account) signs users in through the ordinary
// authorization flow, as this built-in client. It asks for nothing
// (response_type=none: no code, no token), so the only thing it obtains is
// the sign-in session itself, with every MFA rule applied.
import type { ClientMetadata } from 'oidc-provider';
import type { ClientLookup } from '../clients/types.ts';
import { t } from '../../views/strings.ts';

export const ACCOUNT_CLIENT_ID = 'latchkey-account';
export const ACCOUNT_CALLBACK_PATH = '/account/callback';

export const accountClientMetadata = (issuer: string): ClientMetadata => ({
  client_id: ACCOUNT_CLIENT_ID,
  client_name: 'Account',
  token_endpoint_auth_method: 'none',
  grant_types: [],
  response_types: ['none'],
  redirect_uris: [`${issuer}${ACCOUNT_CALLBACK_PATH}`],
  post_logout_redirect_uris: [],
});

/** The settings a sign-in applies for a client (the built-in client: first-party, default MFA rules). */
export interface SignInClientSettings {
  name: string;
  firstParty: boolean;
  requireMfa: boolean;
  trustedDevices: boolean;
}

export async function signInClientSettings(clients: ClientLookup, clientId: string): Promise<SignInClientSettings> {
  if (clientId === ACCOUNT_CLIENT_ID) return { name: t('account.clientName'), firstParty: true, requireMfa: false, trustedDevices: true };
  const client = await clients.findById(clientId);
  return {
    name: client?.name ?? clientId,
    firstParty: client?.firstParty ?? false,
    requireMfa: client?.requireMfa ?? false,
    trustedDevices: client?.trustedDevices ?? true,
  };
}
