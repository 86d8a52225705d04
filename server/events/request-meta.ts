// Where a request came from, for a security event: the client's address (as
// Koa reads it, TRUST_PROXY applied), its User-Agent (capped: it is the
// client's text), and the request id every log line of the request carries.
import type { IncomingMessage } from 'node:http';
import { requestIdOf } from '../http/request-id.ts';
import { cappedUserAgent } from '../http/user-agent.ts';
import type { RequestMeta } from './security-event.ts';

export function requestMeta(ctx: { ip?: string; req?: IncomingMessage } | undefined): RequestMeta {
  return {
    ip: ctx?.ip || undefined,
    user_agent: cappedUserAgent(ctx?.req?.headers['user-agent']),
    request_id: requestIdOf(ctx?.req),
  };
}

/** An account acting on itself (a sign-in, a change on /account): actor and subject, plus where the request came from. */
export const byAccount = (ctx: { ip?: string; req?: IncomingMessage } | undefined, accountId: string) =>
  ({ actor: { kind: 'account', id: accountId } as const, subject: accountId, ...requestMeta(ctx) });
