// oidc-provider checks `consumed` and then calls consume(), so two requests
// racing with one code or refresh token could both pass. The stores' consume()
// is an atomic test-and-set that revokes the grant on the second call; this
// turns that into the invalid_grant a sequential replay gets.
import { errors } from 'oidc-provider';
import { AlreadyConsumedError, type Adapter } from '../adapters/index.ts';

export function consumeOnce(adapter: Adapter): Adapter {
  return {
    ...adapter,
    async consume(id) {
      try {
        await adapter.consume(id);
      } catch (error) {
        if (error instanceof AlreadyConsumedError) throw new errors.InvalidGrant('grant already used; it has been revoked');
        throw error;
      }
    },
  };
}
