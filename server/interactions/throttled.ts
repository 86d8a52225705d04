// A throttled attempt: 429 with Retry-After and a message saying how long.
import type Koa from 'koa';
import { t, tn } from '../../views/strings.ts';

export function throttledMessage(retryAfterSeconds: number): string {
  const wait = retryAfterSeconds >= 120
    ? tn('throttle.minutes', Math.ceil(retryAfterSeconds / 60))
    : retryAfterSeconds >= 60 ? tn('throttle.minutes', 1) : tn('throttle.seconds', retryAfterSeconds);
  return t('throttle.message', { wait });
}

/** Sets the status and header; returns the message for the page. */
export function answerThrottled(ctx: Koa.Context, retryAfterSeconds: number): string {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  return throttledMessage(retryAfterSeconds);
}
