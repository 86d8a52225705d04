// What the stores' own errors mean to oidc-provider, which answers any error
// it does not know with a 500 server_error:
// - consume(): oidc-provider checks `consumed` and then calls consume(), so
//   two requests racing with one code or refresh token could both pass. The
//   stores' consume() is an atomic test-and-set that revokes the grant on the
//   second call; this turns that into the invalid_grant a sequential replay gets.
// - A store that is down or hung (server/adapters/errors.ts) is a 503
//   temporarily_unavailable the client may retry, as JSON or the error page.
import { errors } from 'oidc-provider';
import { AlreadyConsumedError, type Adapter } from '../adapters/index.ts';
import { isStoreUnavailable } from '../adapters/errors.ts';
import type { AccountLookup } from '../accounts/types.ts';
import { t } from '../../views/strings.ts';

/** oidc-provider's temporarily_unavailable with a 503 (its own class says 400). */
export function temporarilyUnavailable(cause: unknown): InstanceType<typeof errors.TemporarilyUnavailable> {
  const error = new errors.TemporarilyUnavailable(t('error.503'), { cause });
  Object.assign(error, { status: 503, statusCode: 503, expose: true });
  return error;
}

async function mapped<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AlreadyConsumedError) throw new errors.InvalidGrant('grant already used; it has been revoked');
    if (isStoreUnavailable(error)) throw temporarilyUnavailable(error);
    throw error;
  }
}

/**
 * The token path's account lookup (refresh, userinfo, introspection) with a
 * store outage as the same 503: its cache asks Redis for the account's
 * version, and Postgres when the account is not cached.
 */
export function guardAccounts(accounts: AccountLookup): AccountLookup {
  return { findById: (id) => mapped(() => accounts.findById(id)) };
}

/** `adapter` with its errors as oidc-provider errors (see above). */
export function guardStore(adapter: Adapter): Adapter {
  return {
    upsert: (id, payload, expiresIn) => mapped(() => adapter.upsert(id, payload, expiresIn)),
    find: (id) => mapped(() => adapter.find(id)),
    findByUid: (uid) => mapped(() => adapter.findByUid(uid)),
    findByUserCode: (userCode) => mapped(() => adapter.findByUserCode(userCode)),
    consume: (id) => mapped(() => adapter.consume(id)),
    insertIfAbsent: (id, payload, expiresIn) => mapped(() => adapter.insertIfAbsent(id, payload, expiresIn)),
    destroy: (id) => mapped(() => adapter.destroy(id)),
    revokeByGrantId: (grantId) => mapped(() => adapter.revokeByGrantId(grantId)),
  };
}
