// Holds the live Provider. Signing keys are fixed when a Provider is built,
// so a key rotation builds a new Provider with the new JWKS and swaps it in;
// all state lives in the adapters, so requests carry on seamlessly.
import Provider from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import { buildConfiguration, type OidcDependencies } from './configuration.ts';
import { nonceInlineScripts } from '../http/nonce-inline-scripts.ts';
import { attachAuditLog } from './audit-log.ts';
import { rfc6749ErrorCodes } from './error-codes.ts';
import { jwtAccessTokenEndpoints, REVOKED_JWT_MODEL } from './jwt-access-tokens.ts';
import { tokenPolicies } from './token-policies.ts';
import { useAtomicReplayDetection, useHashedClientSecrets } from './internals.ts';

export interface ProviderHostOptions extends OidcDependencies {
  secretHashKey: Buffer;
  logger: Logger;
  /** Current private JWKs, signer first per alg (server/keys/key-store.ts). */
  loadJwks: () => Promise<JWK[]>;
  /** Called with each new Provider (to attach event listeners, middleware). */
  onProvider?: (provider: Provider) => void;
}

const fingerprint = (jwks: JWK[]) => jwks.map((k) => k.kid).join(',');

export class ProviderHost {
  #options: ProviderHostOptions;
  #provider: Provider | undefined;
  #callback: ReturnType<Provider['callback']> | undefined;
  #keys = '';

  constructor(options: ProviderHostOptions) {
    this.#options = options;
  }

  get provider(): Provider {
    if (!this.#provider) throw new Error('provider not started');
    return this.#provider;
  }

  /** Node request handler of the current Provider. */
  get callback(): ReturnType<Provider['callback']> {
    if (!this.#callback) throw new Error('provider not started');
    return this.#callback;
  }

  /** Reloads keys; rebuilds the Provider only when the key set changed. Returns true if rebuilt. */
  async refresh(): Promise<boolean> {
    const jwks = await this.#options.loadJwks();
    if (jwks.length === 0) throw new Error('no signing keys');
    const keys = fingerprint(jwks);
    if (keys === this.#keys) return false;
    const { config, logger } = this.#options;
    const provider = new Provider(config.issuer, buildConfiguration(this.#options, jwks));
    provider.proxy = config.trustProxy;
    useHashedClientSecrets(provider, this.#options.clients, this.#options.secretHashKey);
    useAtomicReplayDetection(provider, this.#options.adapterFactory('ReplayDetection'));
    attachAuditLog(provider, logger);
    provider.use(nonceInlineScripts());
    provider.use(rfc6749ErrorCodes());
    provider.use(jwtAccessTokenEndpoints({
      issuer: config.issuer,
      jwks,
      revoked: this.#options.adapterFactory(REVOKED_JWT_MODEL),
      policies: tokenPolicies(this.#options.clients, this.#options.accounts),
    }));
    this.#options.onProvider?.(provider);
    this.#provider = provider;
    this.#callback = provider.callback();
    if (this.#keys) logger.info({ kids: jwks.map((k) => k.kid) }, 'signing keys changed; provider reloaded');
    this.#keys = keys;
    return true;
  }
}
