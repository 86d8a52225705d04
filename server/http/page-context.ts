// A hosted page's branding and CSP nonce, for Latchkey's own pages and for
// those oidc-provider renders. The nonce is read from the Node request, which
// both Koa apps share (security-headers.ts records it there); ctx.state is
// Latchkey's app's alone.
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/index.ts';
import type { PageContext } from '../../views/layout.ts';
import { nonceOf } from './request-nonce.ts';

export const pageContext = (config: Pick<Config, 'productName' | 'brandColor'>, ctx: { req: IncomingMessage }): PageContext =>
  ({ productName: config.productName, brandColor: config.brandColor, nonce: nonceOf(ctx.req) });
