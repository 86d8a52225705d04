// latchkey clients create --name <n> --grant <g>... [--redirect-uri <u>...]
//   [--api <identifier>... --scope "<scopes>"] [--public | --auth <method>] [--jwks-file <path>] [--first-party]
//   [--require-mfa] [--no-trusted-devices]
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { findApiByIdentifier } from '../../apis/api-queries.ts';
import type { Api } from '../../apis/types.ts';
import { parseScopes } from '../../apis/validate.ts';
import { insertClient } from '../../clients/client-queries.ts';
import type { ClientApiGrant, NewClient } from '../../clients/types.ts';
import { parseAuthMethod, parseGrantTypes, parseIdTokenAlg, parseJwks, usesClientSecret, validateNewClient } from '../../clients/validate.ts';
import { hashSecret, randomSecret } from '../../crypto/secrets.ts';
import { NotFoundError, UserError } from '../../errors.ts';
import { clientJson, clientText, collect, subcommand, type CliContext, type Options, type Runner } from './common.ts';
import { RESERVED_SCOPES } from '../../protocol/constants.ts';


export function registerClientsCreate(clients: Command, run: Runner): void {
  subcommand(clients, 'create', 'register an OAuth client; prints its secret once')
    .requiredOption('--name <name>', 'display name (shown on consent pages)')
    .option('--grant <grant>', 'authorization_code, refresh_token or client_credentials (repeatable)', collect, [])
    .option('--redirect-uri <uri>', 'allowed redirect URI (repeatable)', collect, [])
    .option('--post-logout-redirect-uri <uri>', 'allowed post-logout redirect URI (repeatable)', collect, [])
    .option('--api <identifier>', 'API the client may get tokens for (repeatable)', collect, [])
    .option('--scope <scopes>', 'space-separated scopes granted on the --api(s); each API gets those it offers')
    .option('--public', 'public client (SPA, native app): no secret, PKCE only')
    .option('--first-party', 'first-party app: consent is not asked')
    .option('--require-mfa', 'sign-ins for this client need a second factor, whatever MFA_POLICY says')
    .option('--no-trusted-devices', 'always ask for the second factor: a remembered device does not stand in for it')
    .option('--auth <method>', 'client_secret_basic, client_secret_post or private_key_jwt', 'client_secret_basic')
    .option('--jwks-file <path>', 'JSON file {"keys": [...]} with the client\'s public keys (private_key_jwt)')
    .option('--id-token-alg <alg>', 'ID token signature: ES256, or RS256 for clients that support nothing else', 'ES256')
    .action(run(async (ctx, _args, options) => {
      const client = await buildNewClient(ctx, options);
      validateNewClient(client);
      // A machine client without an API could never get a token (a token's audience is an API).
      if (client.grantTypes.includes('client_credentials') && client.apis.length === 0) {
        throw new UserError('client_credentials needs the API its tokens are for: add --api <identifier> (see latchkey apis list)');
      }
      // The secret exists only in this process and in the output; the database gets its keyed hash.
      const secret = usesClientSecret(client.tokenEndpointAuthMethod) ? randomSecret() : undefined;
      const created = await insertClient(ctx.db, client, secret ? hashSecret(ctx.keyring().secretHash, secret) : null);
      const shown: [string, string][] = secret ? [['client_secret', `${secret}  (shown once: store it now)`]] : [];
      const { client_id, ...rest } = clientJson(created);
      return {
        json: { client_id, ...(secret ? { client_secret: secret } : {}), ...rest },
        text: `Client created.\n${clientText(created, shown)}`,
      };
    }));
}

async function buildNewClient(ctx: CliContext, options: Options): Promise<NewClient> {
  const explicitAuth = options.auth !== 'client_secret_basic';
  if (options.public && explicitAuth) throw new UserError('--public clients authenticate with PKCE only; drop --auth');
  const tokenEndpointAuthMethod = options.public ? 'none' : parseAuthMethod(options.auth);
  if (tokenEndpointAuthMethod === 'none' && !options.public) throw new UserError('use --public for a client without credentials');
  return {
    name: options.name.trim(),
    grantTypes: parseGrantTypes(options.grant),
    redirectUris: options.redirectUri,
    postLogoutRedirectUris: options.postLogoutRedirectUri,
    tokenEndpointAuthMethod,
    jwks: options.jwksFile ? parseJwks(readJwksFile(options.jwksFile), `--jwks-file ${options.jwksFile}`) : null,
    firstParty: Boolean(options.firstParty),
    requireMfa: Boolean(options.requireMfa),
    trustedDevices: options.trustedDevices !== false,
    idTokenAlg: parseIdTokenAlg(options.idTokenAlg),
    apis: await grantsFor(ctx, options.api, options.scope),
  };
}

function readJwksFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read --jwks-file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Each listed API gets the requested scopes it offers; a scope no listed API offers is an error. */
async function grantsFor(ctx: CliContext, identifiers: string[], scopeList: string | undefined): Promise<ClientApiGrant[]> {
  const scopes = scopeList === undefined ? [] : parseScopes(scopeList);
  if (scopes.length && identifiers.length === 0) throw new UserError('--scope needs the --api that offers those scopes');
  const apis: Api[] = [];
  for (const identifier of new Set(identifiers)) {
    const api = await findApiByIdentifier(ctx.db, identifier);
    if (!api) throw new NotFoundError(`unknown API ${identifier}`);
    apis.push(api);
  }
  for (const scope of scopes) {
    if (apis.some((api) => api.scopes.includes(scope))) continue;
    const hint = RESERVED_SCOPES.has(scope) ? ' (OpenID Connect scopes need no --scope: sign-in clients may always request them)' : '';
    throw new UserError(`scope "${scope}" is not offered by ${apis.map((api) => api.identifier).join(', ')}${hint}`);
  }
  return apis.map((api) => ({ apiIdentifier: api.identifier, scopes: scopes.filter((scope) => api.scopes.includes(scope)) }));
}
