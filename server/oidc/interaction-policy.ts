// Which prompts a request needs: oidc-provider's login and consent prompts,
// plus two reasons to sign in again that it does not know about:
// - an absolute session lifetime (a session idles out by its TTL, but an
//   active one must still re-authenticate after SESSION_ABSOLUTE_TTL);
// - a session whose account was disabled, deleted or signed out everywhere
//   since (findAccount no longer returns it, but the session still names it).
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
  policy.get('login')!.checks.add(
    new Check('account_unavailable', 'the signed-in account is disabled or gone', 'login_required', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
  );
  return policy;
}
