// Bearer tokens are their own record ids: an opaque access or refresh token's
// value is the id oidc-provider stores it under, and its `jti`. So that a dump
// of the store holds no usable token (checklist C41), these models are kept
// under a SHA-256 of the id and without `jti`, which find() restores from the
// id the caller presented.
import { createHash } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { Adapter } from './index.ts';

export const BEARER_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

const digest = (id: string) => createHash('sha256').update(id).digest('base64url');

export function withHashedIds(adapter: Adapter): Adapter {
  const restore = (id: string, payload: AdapterPayload | undefined) => (payload ? { ...payload, jti: id } : undefined);
  return {
    async upsert(id, payload, expiresIn) {
      const { jti: _jti, ...stored } = payload;
      await adapter.upsert(digest(id), stored as AdapterPayload, expiresIn);
    },
    find: async (id) => restore(id, await adapter.find(digest(id))),
    // Only DeviceCode has a user code; its pointer names the hashed id, which cannot be reversed.
    findByUid: (uid) => adapter.findByUid(uid),
    findByUserCode: (userCode) => adapter.findByUserCode(userCode),
    consume: (id) => adapter.consume(digest(id)),
    insertIfAbsent: (id, payload, expiresIn) => {
      const { jti: _jti, ...stored } = payload;
      return adapter.insertIfAbsent(digest(id), stored as AdapterPayload, expiresIn);
    },
    destroy: (id) => adapter.destroy(digest(id)),
    revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
  };
}
