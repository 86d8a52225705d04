// Which prompts a request needs: oidc-provider's login and consent prompts,
// plus three reasons to sign in (again) that it does not know about:
// - an absolute session lifetime (a session idles out by its TTL, but an
//   active one must still re-authenticate after SESSION_ABSOLUTE_TTL);
// - a session whose account was disabled, deleted or signed out everywhere
//   since (findAccount no longer returns it, but the session still names it);
// - a session without the second factor that the account, the client, the
//   global policy or the request (acr_values or the claims parameter, see
//   requestsMfa) requires (step-up: the interaction asks for that factor only).
// And one change to oidc-provider's own checks: an essential acr (claims
// parameter) that a sign-in just made in this request did not reach fails the
// request instead of asking for yet another sign-in.
import { errors, interactionPolicy, type Client, type KoaContextWithOIDC } from 'oidc-provider';
import { outlivedSession } from '../accounts/session-lifetime.ts';
import type { Account } from '../accounts/types.ts';
import { satisfiesMfa, secondFactorRequired } from '../mfa/policy.ts';

const { base, Check } = interactionPolicy;

export interface MfaPolicyInputs {
  policy: 'optional' | 'required';
  hasFactors(accountId: string): Promise<boolean>;
  /** The client's MFA settings, read from the oidc-provider client of the request (ctx.oidc.client). */
  clientSettings(client: Client): { requireMfa: boolean; trustedDevices: boolean } | Promise<{ requireMfa: boolean; trustedDevices: boolean }>;
}

/** findAccount's result carries the account record (find-account.ts). */
const accountOf = (ctx: KoaContextWithOIDC): Account | undefined => (ctx.oidc.account as { profile?: Account } | undefined)?.profile;

export function buildInteractionPolicy(sessionAbsoluteSeconds: number, mfa: MfaPolicyInputs) {
  const policy = base();
  const login = policy.get('login')!;
  login.checks.add(
    // The error code is what prompt=none answers (OIDC Core 3.1.2.6).
    new Check('session_expired', 'the sign-in session is too old', 'login_required', (ctx) => {
      const { session } = ctx.oidc;
      if (!session?.accountId || session.loginTs === undefined) return Check.NO_NEED_TO_PROMPT;
      return outlivedSession(session.loginTs, { sessionAbsolute: sessionAbsoluteSeconds }) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  login.checks.add(
    new Check('account_unavailable', 'the signed-in account is disabled or gone', 'login_required', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT),
  );
  login.checks.add(
    new Check('second_factor_needed', 'a second factor is required', 'login_required', async (ctx) => {
      const { session, client } = ctx.oidc;
      const account = accountOf(ctx);
      if (!session?.accountId || !account || !client) return Check.NO_NEED_TO_PROMPT;
      const clientSettings = await mfa.clientSettings(client);
      const required = secondFactorRequired({
        policy: mfa.policy,
        account: { requireMfa: account.requireMfa, hasFactors: await mfa.hasFactors(account.id) },
        client: clientSettings,
        request: ctx.oidc.params ?? {},
      });
      return required && !satisfiesMfa(session, clientSettings) ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
    }),
  );
  for (const reason of ['essential_acr', 'essential_acrs']) {
    // oidc-provider asks for a sign-in while the session's acr is not one an
    // essential acr request names. MFA is reached by the step-up above (the
    // state machine lets these reasons step up when requestsMfa); what no
    // sign-in can give (acr pwd for a user with a factor, an unknown acr)
    // would ask again after every sign-in. OIDC Core 5.5.1.1: a failed
    // authentication, answered to the client.
    const check = login.checks.get(reason)!;
    const unmet = check.check;
    check.check = async (ctx) => {
      if (!(await unmet(ctx))) return Check.NO_NEED_TO_PROMPT;
      if (ctx.oidc.result?.login) throw new errors.UnmetAuthenticationRequirements('the requested acr could not be obtained');
      return Check.REQUEST_PROMPT;
    };
  }
  return policy;
}
