// The account page (/account) signs users in through the ordinary
// authorization flow, as this built-in client. It asks for nothing
// (response_type=none: no code, no token), so the only thing it obtains is
// the sign-in session itself, with every MFA rule applied.
import type { Client, ClientMetadata } from 'oidc-provider';
import { t } from '../../views/strings.ts';
import { latchkeyFieldsOf, latchkeyMetadata } from './client-metadata.ts';

export const ACCOUNT_CLIENT_ID = 'latchkey-account';
export const ACCOUNT_CALLBACK_PATH = '/account/callback';

/** The built-in client's settings: first-party, the default MFA rules. */
const ACCOUNT_CLIENT_SETTINGS = { firstParty: true, requireMfa: false, trustedDevices: true };

export const accountClientMetadata = (issuer: string): ClientMetadata => ({
  client_id: ACCOUNT_CLIENT_ID,
  client_name: 'Account',
  token_endpoint_auth_method: 'none',
  grant_types: [],
  response_types: ['none'],
  redirect_uris: [`${issuer}${ACCOUNT_CALLBACK_PATH}`],
  post_logout_redirect_uris: [],
  ...latchkeyMetadata({ apis: [], ...ACCOUNT_CLIENT_SETTINGS }),
});

/** The settings a sign-in applies for a client. */
export interface SignInClientSettings {
  name: string;
  firstParty: boolean;
  requireMfa: boolean;
  trustedDevices: boolean;
}

/** A client's sign-in settings, from the oidc-provider client itself (ctx.oidc.client in a check). */
export function clientSettingsOf(client: Client): SignInClientSettings {
  if (client.clientId === ACCOUNT_CLIENT_ID) return accountClientSettings();
  const { firstParty, requireMfa, trustedDevices } = latchkeyFieldsOf(client);
  return { name: client.clientName ?? client.clientId, firstParty, requireMfa, trustedDevices };
}

const accountClientSettings = (): SignInClientSettings => ({ name: t('account.clientName'), ...ACCOUNT_CLIENT_SETTINGS });

/**
 * The sign-in settings of the interaction's client, found the way
 * oidc-provider finds it (provider.Client: a static client is a map read).
 * The built-in client's are constants. A client deleted during the sign-in
 * gets the defaults; oidc-provider refuses to finish its flow anyway.
 */
export async function signInClientSettings(clients: { find(id: string): Promise<Client | undefined> }, clientId: string): Promise<SignInClientSettings> {
  if (clientId === ACCOUNT_CLIENT_ID) return accountClientSettings();
  const client = await clients.find(clientId);
  return client ? clientSettingsOf(client) : { name: clientId, firstParty: false, requireMfa: false, trustedDevices: true };
}
