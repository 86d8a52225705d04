// latchkey apis create --identifier <uri> --scope "<scopes>" [--name] [--ttl]
import type { Command } from 'commander';
import { insertApi } from '../../apis/api-queries.ts';
import { parseAccessTokenTtl, parseScopes, validateApiIdentifier, validateApiScopes, validateAccessTokenTtl } from '../../apis/validate.ts';
import { apiJson, apiText, subcommand, type Runner } from './common.ts';

export function registerApisCreate(apis: Command, run: Runner): void {
  subcommand(apis, 'create', 'register an API (resource server) and the scopes it offers')
    .requiredOption('--identifier <uri>', 'absolute URI used as the token audience, e.g. https://api.example.com')
    .requiredOption('--scope <scopes>', 'space-separated scopes the API offers, e.g. "orders:read orders:write"')
    .option('--name <name>', 'display name')
    .option('--ttl <duration>', 'access token lifetime, 1s to 24h (default ACCESS_TOKEN_TTL)')
    .action(run(async (ctx, _args, options) => {
      const accessTokenTtl = options.ttl === undefined ? ctx.config.ttl.accessToken : parseAccessTokenTtl(options.ttl);
      validateAccessTokenTtl(accessTokenTtl);
      const api = await insertApi(ctx.db, {
        identifier: validateApiIdentifier(options.identifier),
        name: options.name,
        scopes: validateApiScopes(parseScopes(options.scope)),
        accessTokenTtl,
      });
      return { json: apiJson(api), text: `API created.\n${apiText(api)}` };
    }));
}
