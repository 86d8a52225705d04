// Holds the live Provider. Signing keys and clients are fixed when a
// Provider is built, so a key rotation or a client change builds a new
// Provider and swaps it in; all state lives in the adapters, so requests
// carry on seamlessly. Clients are oidc-provider static clients: a lookup on
// the token path is a Map get (through an adapter, oidc-provider hashes the
// client's metadata on every request), and their metadata carries Latchkey's
// own fields (client-metadata.ts), so no other lookup follows.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import Provider, { type ClientMetadata } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { Api } from '../apis/types.ts';
import type { ApiSnapshot } from '../apis/api-cache.ts';
import type { Client } from '../clients/types.ts';
import { toClientMetadata } from './client-metadata.ts';
import { accountClientMetadata } from './account-client.ts';
import { buildConfiguration, type OidcDependencies } from './configuration.ts';
import { errorPages } from '../http/error-pages.ts';
import { pageContext } from '../http/page-context.ts';
import { nonceInlineScripts } from '../http/nonce-inline-scripts.ts';
import { logRequestFailure } from '../http/request-id.ts';
import { oneLine } from '../errors.ts';
import { attachAuditLog } from './audit-log.ts';
import { requestFacts } from './request-facts.ts';
import { rfc6749ErrorCodes } from './error-codes.ts';
import { guardStore } from './store-guards.ts';
import { jwtAccessTokenEndpoints, REVOKED_JWT_MODEL } from './jwt-access-tokens.ts';
import { tokenPolicies, type TokenPolicies } from './token-policies.ts';
import { useAtomicReplayDetection, useHashedClientSecrets } from './internals.ts';
import { providerMetrics } from '../metrics/provider-metrics.ts';
import type { LatchkeyMetrics } from '../metrics/registry.ts';
import { SecurityEvents } from '../events/security-event.ts';

export interface ProviderHostOptions extends OidcDependencies {
  secretHashKey: Buffer;
  logger: Logger;
  /** Where tokens issued and refused, grants revoked and sign-outs are recorded (none: not recorded). */
  events?: SecurityEvents;
  /** Current private JWKs, signer first per alg (server/keys/key-store.ts). */
  loadJwks: () => Promise<JWK[]>;
  /** Every registered client. */
  loadClients: () => Promise<Client[]>;
  /** The APIs the token path reads; with `loadApis`, a snapshot the refresh replaces. */
  apis: OidcDependencies['apis'] & Partial<Pick<ApiSnapshot, 'replace'>>;
  /** Every registered API, swapped into `apis` with the clients (none: `apis` looks each up itself). */
  loadApis?: () => Promise<Api[]>;
  /** Counts token, introspection and revocation answers (absent with METRICS_PORT=off). */
  metrics?: LatchkeyMetrics;
  /** How long a refresh may take before it is abandoned (default 30 s). */
  refreshDeadlineMs?: number;
}

// A refresh stuck on a dead connection must not hold up every later one.
const REFRESH_DEADLINE_MS = 30_000;

/**
 * Runs `work` with a deadline. At the deadline the returned promise rejects
 * and `signal` aborts: the work cannot be cancelled, but it must check the
 * signal before it changes anything, so an abandoned run changes nothing.
 */
function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, what: string): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${what} took longer than ${ms / 1000} s`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  return Promise.race([work(controller.signal), deadline]).finally(() => clearTimeout(timer));
}

/**
 * oidc-provider builds a static client (and validates its metadata, Latchkey's
 * fields included) on its first request. Building each now reports a
 * malformed one when the clients are loaded, naming it, rather than only as
 * a server error of its requests; it does not hold up the other clients or a
 * key rotation. Returns what was wrong with each client that failed.
 */
async function buildClients(provider: Provider, metadata: ClientMetadata[]): Promise<{ client_id: string; reason: string }[]> {
  const failures = await Promise.all(metadata.map(async ({ client_id }) => {
    try {
      await provider.Client.find(client_id);
      return undefined;
    } catch (error) {
      return { client_id, reason: (error as { error_description?: string }).error_description ?? oneLine(error) };
    }
  }));
  return failures.filter((failure) => failure !== undefined);
}

const fingerprint = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('base64url');

export class ProviderHost {
  #options: ProviderHostOptions;
  #policies: TokenPolicies;
  #provider: Provider | undefined;
  #callback: ReturnType<Provider['callback']> | undefined;
  #inputs = '';
  #kids = '';

  constructor(options: ProviderHostOptions) {
    this.#options = options;
    this.#policies = tokenPolicies(options.accounts);
  }

  get provider(): Provider {
    if (!this.#provider) throw new Error('provider not started');
    return this.#provider;
  }

  /** A Provider was built: signing keys (at least one) and clients are loaded. */
  get started(): boolean {
    return this.#provider !== undefined;
  }

  /** Node request handler of the current Provider. */
  get callback(): ReturnType<Provider['callback']> {
    if (!this.#callback) throw new Error('provider not started');
    return this.#callback;
  }

  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Reloads keys and clients; rebuilds the Provider only when they changed.
   * Calls run one after another, and a load still running at its deadline is
   * abandoned (the call rejects and the load, when it finishes, swaps nothing
   * in), so an older load never replaces a newer one. Resolves true if it rebuilt.
   */
  refresh(): Promise<boolean> {
    const deadline = this.#options.refreshDeadlineMs ?? REFRESH_DEADLINE_MS;
    const run = this.#queue.then(() => withDeadline((signal) => this.#refresh(signal), deadline, 'reloading clients and keys'));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #refresh(abandoned: AbortSignal): Promise<boolean> {
    // Everything the token path needs is loaded before anything is swapped:
    // until then requests are served from the previous snapshot, and a failed
    // load leaves it in place (the caller retries).
    const [jwks, clients, apis] = await Promise.all([this.#options.loadJwks(), this.#options.loadClients(), this.#options.loadApis?.()]);
    // Abandoned at its deadline: change nothing (checked again before the swap).
    abandoned.throwIfAborted();
    if (jwks.length === 0) throw new Error('no signing keys');
    const replaceApis = () => { if (apis) this.#options.apis.replace?.(apis); };
    const metadata = [...clients.map(toClientMetadata), accountClientMetadata(this.#options.config.issuer)];
    const inputs = fingerprint({ kids: jwks.map((k) => k.kid), metadata });
    if (inputs === this.#inputs) {
      replaceApis();
      return false;
    }
    const { config, logger } = this.#options;
    const keysChanged = this.#provider !== undefined && fingerprint(jwks.map((k) => k.kid)) !== this.#kids;
    const provider = new Provider(config.issuer, buildConfiguration(this.#options, jwks, metadata, this.#policies));
    provider.proxy = config.trustProxy;
    useHashedClientSecrets(provider, this.#options.secretHashKey);
    useAtomicReplayDetection(provider, guardStore(this.#options.adapterFactory('ReplayDetection')));
    attachAuditLog(provider, logger, this.#options.events ?? new SecurityEvents(), { machineTokens: config.audit?.machineTokens ?? false });
    // Whatever escapes oidc-provider's own error handling (an exception in it)
    // is logged with the request id, never to stderr, and answered with our
    // error page or JSON, never Koa's bare text 500. Outermost, so first.
    (provider as unknown as Koa).on('error', logRequestFailure(logger));
    // Outermost middleware: it counts the answer every other one shaped.
    if (this.#options.metrics) provider.use(providerMetrics(this.#options.metrics));
    provider.use(errorPages((ctx) => pageContext(config, ctx)));
    provider.use(requestFacts()); // route and client, for the access log
    provider.use(nonceInlineScripts());
    provider.use(rfc6749ErrorCodes());
    provider.use(jwtAccessTokenEndpoints({
      issuer: config.issuer,
      jwks,
      revoked: guardStore(this.#options.adapterFactory(REVOKED_JWT_MODEL)),
      grants: guardStore(this.#options.adapterFactory('Grant')),
      policies: this.#policies,
    }));
    const invalid = await buildClients(provider, metadata);
    // A later refresh may have swapped in newer keys and clients meanwhile.
    abandoned.throwIfAborted();
    for (const failure of invalid) logger.error(failure, 'a client\'s metadata is invalid; its requests will fail');
    this.#provider = provider;
    this.#callback = provider.callback();
    replaceApis();
    if (keysChanged) logger.info({ kids: jwks.map((k) => k.kid) }, 'signing keys changed; provider reloaded');
    this.#inputs = inputs;
    this.#kids = fingerprint(jwks.map((k) => k.kid));
    return true;
  }
}
