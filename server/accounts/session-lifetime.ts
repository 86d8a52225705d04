// How long a sign-in session lives: SESSION_IDLE_TTL, renewed on use, capped
// by SESSION_ABSOLUTE_TTL from the sign-in. The one rule, asked by the
// provider's session TTL (oidc/ttl.ts), its login policy (a session too old
// must sign in again) and /account (which reads the session itself).

const nowSeconds = () => Date.now() / 1000;

export interface SessionLifetime {
  sessionIdle: number;
  sessionAbsolute: number;
}

/** Has a session signed in at `loginTs` (epoch seconds) outlived the absolute lifetime? (To the millisecond: no grace second.) */
export const outlivedSession = (loginTs: number, ttl: Pick<SessionLifetime, 'sessionAbsolute'>, now = nowSeconds()): boolean =>
  now - loginTs > ttl.sessionAbsolute;

/** Seconds the session may live from now on: the idle lifetime, never past the absolute one (at least 1). */
export const sessionSecondsLeft = (loginTs: number, ttl: SessionLifetime, now = nowSeconds()): number =>
  Math.max(1, Math.min(ttl.sessionIdle, loginTs + ttl.sessionAbsolute - Math.floor(now)));
