// Where a request came from, for a security event: the client's address (as
// Koa reads it, TRUST_PROXY applied), its User-Agent (capped: it is the
// client's text), and the request id every log line of the request carries.
import type { IncomingMessage } from 'node:http';
import { requestIdOf } from '../http/request-id.ts';
import type { RequestMeta } from './security-event.ts';

const MAX_USER_AGENT = 512;

export function requestMeta(ctx: { ip?: string; req?: IncomingMessage } | undefined): RequestMeta {
  const agent = ctx?.req?.headers['user-agent'];
  return {
    ip: ctx?.ip || undefined,
    user_agent: typeof agent === 'string' && agent ? agent.slice(0, MAX_USER_AGENT) : undefined,
    request_id: requestIdOf(ctx?.req),
  };
}

/** An account acting on itself (a sign-in, a change on /account): actor and subject, plus where the request came from. */
export const byAccount = (ctx: { ip?: string; req?: IncomingMessage } | undefined, accountId: string) =>
  ({ actor: { kind: 'account', id: accountId } as const, subject: accountId, ...requestMeta(ctx) });
