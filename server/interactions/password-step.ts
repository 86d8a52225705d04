// Step "password": email + password. Unknown email, wrong password and a
// disabled account give the same page, status and (argon2) timing. Attempts
// are throttled per IP, per account+IP and per account; a browser that signed
// in to the account before (or holds a remembered device of it) is exempt
// from the all-IPs account limit, so an attacker elsewhere cannot lock its
// owner out.
import type Koa from 'koa';
import type { Account } from '../accounts/types.ts';
import { loginPage } from '../../views/login.ts';
import { t } from '../../views/strings.ts';
import { requestMeta } from '../events/request-meta.ts';
import type { PasswordRefusal } from '../accounts/types.ts';
import { csrfToken } from '../http/csrf.ts';
import { isKnownBrowser, rememberKnownBrowser } from '../http/known-browser-cookie.ts';
import { pageContext } from '../http/page-context.ts';
import { readDeviceTokens } from '../http/trusted-device-cookie.ts';
import { passwordOnly, passwordOnTrustedDevice } from '../mfa/policy.ts';
import { ThrottledError } from '../throttle/types.ts';
import type { InteractionDependencies } from './context.ts';
import { rememberAllowed } from './finish-login.ts';
import { mustUseMfa, type FlowAt } from './flow.ts';
import { advance, finish, retry, throttled, type Outcome, type StepModule } from './outcome.ts';
import { submitPasskey } from './passkey-step.ts';

/** What the password page says about a refused attempt. */
export interface PasswordProblem {
  email?: string;
  error?: string;
}

type PasswordFlow = FlowAt<'password'>;

async function renderPasswordStep(deps: InteractionDependencies, ctx: Koa.Context, flow: PasswordFlow, p: PasswordProblem = {}) {
  const hint = flow.details.params.login_hint;
  ctx.type = 'html';
  ctx.body = loginPage(pageContext(deps.config, ctx), {
    action: `/interaction/${flow.uid}/login`,
    csrfToken: csrfToken(deps.csrfKey, flow.uid),
    email: p.email ?? (typeof hint === 'string' ? hint : undefined),
    error: p.error,
    clientName: flow.client.name,
    passkey: {
      action: `/interaction/${flow.uid}/passkey`,
      options: await deps.mfa.webauthn.authenticationOptions(flow.uid, 'passkey'),
    },
  });
}

/** Has this browser signed in to the account before, or does it hold a remembered device of it? */
async function knownBrowser(deps: InteractionDependencies, ctx: Koa.Context, email: string): Promise<boolean> {
  if (isKnownBrowser(ctx, deps.config.https, deps.throttle.emailKey(email))) return true;
  const tokens = readDeviceTokens(ctx, deps.config.https);
  if (tokens.length === 0) return false;
  const [accountIds, account] = await Promise.all([deps.mfa.trustedDevices.accountIdsFor(tokens), deps.accounts.findByEmail(email)]);
  return account !== undefined && accountIds.includes(account.id);
}

async function submitPasswordStep(deps: InteractionDependencies, ctx: Koa.Context, flow: PasswordFlow): Promise<Outcome<PasswordProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const email = (body.email ?? '').trim();
  const password = body.password ?? '';
  const { throttle } = deps;
  const request = requestMeta(ctx);
  // Never the password, nor the email (an unknown one may be a password typed in the wrong field).
  const failed = (reason: PasswordRefusal | 'missing_credentials' | 'throttled') =>
    deps.events.emit({ type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, client_id: String(flow.details.params.client_id), method: 'password', reason, ...request });
  try {
    const known = { knownBrowser: email !== '' && await knownBrowser(deps, ctx, email) };
    await throttle.passwordAttempt(email, ctx.ip, { ...known, request });
    let refusal: PasswordRefusal | 'missing_credentials' = 'missing_credentials';
    const account = email && password ? await deps.passwords.authenticate(email, password, (why) => { refusal = why; }) : undefined;
    if (!account) {
      failed(refusal);
      return retry(401, { email, error: t('login.invalid') });
    }
    await throttle.passwordSucceeded(email, ctx.ip, known);
    rememberKnownBrowser(ctx, deps.config.https, throttle.emailKey(email));
    return await afterPassword(deps, ctx, flow, account);
  } catch (error) {
    if (!(error instanceof ThrottledError)) throw error;
    failed('throttled');
    return throttled(error.retryAfterSeconds, (message) => ({ email, error: message }));
  }
}

/** The password is right: done, or on to the second factor or enrolment. */
async function afterPassword(deps: InteractionDependencies, ctx: Koa.Context, flow: PasswordFlow, account: Account): Promise<Outcome<never>> {
  const hasFactors = await deps.mfa.factors.hasFactors(account.id);
  const mandatory = mustUseMfa(deps, flow.details, flow.client, account);
  if (!hasFactors && !mandatory) return finish(account.id, passwordOnly(), false, 'password');
  if (hasFactors && rememberAllowed(deps, flow)) {
    const tokens = readDeviceTokens(ctx, deps.config.https);
    if (tokens.length && await deps.mfa.trustedDevices.isTrusted(account.id, tokens)) {
      deps.logger.info({ account_id: account.id }, 'second factor skipped: trusted device');
      return finish(account.id, passwordOnTrustedDevice(), false, 'trusted_device');
    }
  }
  // The one place a password becomes proof the later steps build on.
  return advance(hasFactors ? 'second-factor' : 'enrol', { accountId: account.id, amr: ['pwd'], provenAt: Math.floor(Date.now() / 1000) });
}

export const passwordStep: StepModule<'password', PasswordProblem> = {
  show: renderPasswordStep,
  actions: { login: submitPasswordStep, passkey: submitPasskey },
};
