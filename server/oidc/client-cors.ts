// Which browser origins may call the endpoints oidc-provider asks about per
// client (/token, /me, /token/introspection, /token/revocation; discovery and
// JWKS are open to every origin and never ask). Only a public client's (a
// SPA's) own origins, the origins of its registered redirect URIs, and for
// userinfo any client's: a confidential client keeps its secret server-side,
// so a browser has no business sending it. Never the opaque `null` origin
// (sandboxed frames, file: pages). This is oidc-provider's own default,
// written out so the choice is ours and visible.
import type { KoaContextWithOIDC } from 'oidc-provider';

type Client = NonNullable<KoaContextWithOIDC['oidc']['client']>;

export function clientBasedCors(ctx: KoaContextWithOIDC, origin: string, client: Client): boolean {
  if (origin === 'null') return false;
  if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
  return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin);
}
