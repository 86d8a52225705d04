// Everything Latchkey takes from oidc-provider beyond its documented API, in
// one module: the texts of its errors that we match, the fields it keeps but
// does not document, and two of its methods we replace. Each is pinned by
// test/unit/oidc-internals.test.ts against the installed oidc-provider, so an
// upgrade that changes one fails there, not silently in production. Nothing
// else imports oidc-provider/lib/... (that test checks this too).
//
// What stays elsewhere leans on its behaviour, not on a text or a field, and
// is covered by the security suites: store-guards.ts relies on it checking
// `consumed` before calling consume() (c12, c17), and interaction-policy.ts
// wraps the typed `check` of its essential_acr checks.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Client, KoaContextWithOIDC, RefreshToken, Session } from 'oidc-provider';
import type { Adapter } from '../adapters/index.ts';
import { verifySecret } from '../crypto/secrets.ts';
import { latchkeyFieldsOf } from './client-metadata.ts';

/** oidc-provider's error_description texts that Latchkey matches or repeats (where each is thrown). */
export const PROVIDER_TEXT = Object.freeze({
  /** lib/actions/token.js */
  grantTypeNotAllowed: 'requested grant type is not allowed for this client',
  /** lib/actions/authorization/response_parameters.js */
  responseTypeNotAllowed: 'requested response_type is not allowed for this client',
  /** lib/shared/client_auth.js: no credentials at all */
  noClientAuthentication: 'no client authentication mechanism provided',
  /** lib/shared/client_auth.js: Basic with an empty secret */
  basicWithoutSecret: 'client_secret must be provided in the Authorization header',
  /** lib/shared/xsrf.js: the logout confirmation's token does not match the session's */
  xsrfInvalid: 'xsrf token invalid',
  /** lib/helpers/err_out.js: what a server_error says */
  serverError: 'oops! something went wrong',
});

export interface RefusedStructuredToken {
  oidc: KoaContextWithOIDC['oidc'];
  caller: Client;
  token: string;
}

/**
 * The introspection or revocation request oidc-provider just refused because
 * its token is a JWT, read from ctx.oidc after its error handler answered (by
 * then it has authenticated the caller and parsed the params).
 */
export function refusedStructuredToken(ctx: Koa.Context): RefusedStructuredToken | undefined {
  const body = ctx.body as { error?: string } | undefined;
  // What oidc-provider answers a JWT at introspection or revocation with (lib/shared/reject_structured_tokens.js).
  if (ctx.status !== 400 || body?.error !== 'unsupported_token_type') return undefined;
  const { oidc } = ctx as unknown as Partial<KoaContextWithOIDC>;
  const token = oidc?.params?.token;
  const caller = oidc?.client;
  if (!oidc || !caller || typeof token !== 'string') return undefined;
  return { oidc, caller, token };
}

/**
 * The browser's oidc-provider session, loaded on Latchkey's own Koa context:
 * Session.get reads the session cookie through a context it builds itself
 * when ctx.oidc is absent.
 */
export const sessionOfRequest = (provider: Provider, ctx: Koa.Context): Promise<Session> =>
  provider.Session.get(ctx as never);

/**
 * The path template of the oidc-provider route that answered (/token,
 * /auth/:uid...), read after the provider's router ran: its router keeps it
 * in `_matchedRoute`, as @koa/router does. Undefined when no route matched.
 */
export const providerRouteTemplate = (ctx: Koa.Context): string | undefined => {
  const matched = (ctx as Koa.Context & { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === 'string' ? matched : undefined;
};

/** When the interaction was created (the model's own `iat`, which interactionDetails does not document). */
export const interactionIssuedAt = (details: object): number | undefined => {
  const { iat } = details as { iat?: unknown };
  return typeof iat === 'number' ? iat : undefined;
};

/** A refresh token's first `iat`: rotation copies it (`iiat`) to each new token of the chain. */
export const refreshChainIssuedAt = (token: RefreshToken): number | undefined =>
  (token as unknown as { iiat?: number }).iiat ?? token.iat;

export function useHashedClientSecrets(provider: Provider, hashKey: Buffer): void {
  // Client secrets are stored as keyed hashes, so the check of a presented
  // secret replaces this method (oidc-provider awaits it in lib/shared/client_auth.js).
  const prototype = provider.Client.prototype as unknown as { compareClientSecret: (actual: string) => Promise<boolean> };
  prototype.compareClientSecret = async function compareClientSecret(this: Client, actual: string) {
    // The hashes are in this client's metadata, like every field the other
    // checks read, so a rotation takes effect for all of them at once (when
    // the Provider is rebuilt with the new metadata).
    const client = latchkeyFieldsOf(this);
    if (!client.secretHash) return false;
    const current = verifySecret(hashKey, actual, client.secretHash);
    // After rotate-secret the previous secret works until its grace period ends.
    const previous = client.previousSecretHash !== null
      && client.previousSecretExpiresAt !== null
      && client.previousSecretExpiresAt * 1000 > Date.now()
      && verifySecret(hashKey, actual, client.previousSecretHash);
    return current || previous;
  };
}

/** The id oidc-provider's own ReplayDetection.unique stores an (iss, jti) pair under. */
export const replayDetectionId = (iss: string, jti: string): string =>
  createHash('sha256').update(`${iss}${jti}`).digest('base64url');

export function useAtomicReplayDetection(provider: Provider, adapter: Adapter): void {
  // ReplayDetection.unique (client assertions, DPoP proofs) is find-then-save
  // in oidc-provider, so two requests replaying one jti at once could both
  // pass; it becomes one atomic insert-if-absent.
  const model = provider.ReplayDetection as unknown as { unique: (iss: string, jti: string, exp: number) => Promise<boolean> };
  model.unique = async (iss, jti, exp) => {
    const id = replayDetectionId(iss, jti);
    const ttl = Math.max(1, exp - Math.floor(Date.now() / 1000));
    return adapter.insertIfAbsent(id, { jti: id, iss, kind: 'ReplayDetection', exp } as never, ttl);
  };
}
