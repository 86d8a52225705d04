// The CSP nonce of a request, readable from oidc-provider's own Koa context
// (which shares the Node request object with Latchkey's app but not ctx.state).
import type { IncomingMessage } from 'node:http';

const nonces = new WeakMap<IncomingMessage, string>();

export const rememberNonce = (req: IncomingMessage, nonce: string): void => {
  nonces.set(req, nonce);
};

export const nonceOf = (req: IncomingMessage): string => nonces.get(req) ?? '';
