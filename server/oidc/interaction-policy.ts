// Which prompts a request needs: oidc-provider's login and consent prompts,
// plus an absolute session lifetime (a session idles out by its TTL, but an
// active one must still re-authenticate after SESSION_ABSOLUTE_TTL).
import { interactionPolicy } from 'oidc-provider';

const { base, Check } = interactionPolicy;

export function buildInteractionPolicy(sessionAbsoluteSeconds: number) {
  const policy = base();
  policy.get('login')!.checks.add(
    // The error code is what prompt=none answers (OIDC Core 3.1.2.6).
    new Check('session_expired', 'the sign-in session is too old', 'login_required', (ctx) => {
      const { session } = ctx.oidc;
      if (!session?.accountId || session.loginTs === undefined) return Check.NO_NEED_TO_PROMPT;
      return Date.now() / 1000 - session.loginTs > sessionAbsoluteSeconds ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
