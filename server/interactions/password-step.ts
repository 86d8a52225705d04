// Step "password": email + password. Unknown email, wrong password and a
// disabled account give the same page, status and (argon2) timing. Attempts
// are throttled per IP, per account+IP and per account; a browser that signed
// in to the account before (or holds a remembered device of it) is exempt
// from the all-IPs account limit, so an attacker elsewhere cannot lock its
// owner out.
import type Koa from 'koa';
import type { PasswordCandidate, PasswordRefusal, SignInSubject } from '../accounts/types.ts';
import { loginPage } from '../../views/login.ts';
import { t } from '../../views/strings.ts';
import { requestMeta } from '../events/request-meta.ts';
import { csrfToken } from '../http/csrf.ts';
import { isKnownBrowser, rememberKnownBrowser } from '../http/known-browser-cookie.ts';
import { pageContext } from '../http/page-context.ts';
import { readDeviceTokens } from '../http/trusted-device-cookie.ts';
import { passwordOnly, passwordOnTrustedDevice } from '../mfa/policy.ts';
import { hasAnyFactor } from '../mfa/types.ts';
import type { InteractionDependencies } from './context.ts';
import { rememberAllowed } from './finish-login.ts';
import { mustUseMfa, type FlowAt } from './flow.ts';
import { advance, finish, retry, type Outcome, type StepModule } from './outcome.ts';
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

/**
 * A password POST looks its email up once (the account, its factors, and
 * whether the browser remembers a device of it: PasswordCandidate), and only
 * once the throttle let the attempt through: a throttled attempt runs no query.
 */
async function submitPasswordStep(deps: InteractionDependencies, ctx: Koa.Context, flow: PasswordFlow): Promise<Outcome<PasswordProblem>> {
  const body = ctx.request.body as Record<string, string | undefined>;
  const email = (body.email ?? '').trim();
  const password = body.password ?? '';
  const { throttle } = deps;
  const request = requestMeta(ctx);
  // Never the password, nor the email (an unknown one may be a password typed in the wrong field).
  const failed = (reason: PasswordRefusal | 'missing_credentials') =>
    deps.events.emit({ type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, client_id: String(flow.details.params.client_id), method: 'password', reason, ...request });
  const tokens = readDeviceTokens(ctx, deps.config.https);
  let lookup: Promise<PasswordCandidate> | undefined;
  const candidate = () => (lookup ??= deps.passwords.passwordCandidate(email, deps.mfa.trustedDevices.tokenHashes(tokens)));
  // Has this browser signed in to the account before (a cookie), or does it hold a remembered device of it (the lookup)?
  const knownBrowser = email !== '' && (isKnownBrowser(ctx, deps.config.https, throttle.emailKey(email))
    || (tokens.length > 0 && (async () => (await candidate()).rememberedHere)));
  await throttle.passwordAttempt(email, ctx.ip, { knownBrowser, request }); // over a limit: ThrottledError, see refusal
  let refusal: PasswordRefusal | 'missing_credentials' = 'missing_credentials';
  const subject = email && password ? await (await candidate()).verify(password, (why) => { refusal = why; }) : undefined;
  if (!subject) {
    failed(refusal);
    return retry(401, { email, error: t('login.invalid') });
  }
  await throttle.passwordSucceeded(email, ctx.ip, { knownBrowser: typeof knownBrowser === 'function' ? await knownBrowser() : knownBrowser });
  rememberKnownBrowser(ctx, deps.config.https, throttle.emailKey(email));
  return afterPassword(deps, flow, subject, (await candidate()).rememberedHere ? tokens : []);
}

/** The password is right: done, or on to the second factor or enrolment. `deviceTokens`: the cookie's, when one is a live device of the account. */
async function afterPassword(deps: InteractionDependencies, flow: PasswordFlow, { account, factors }: SignInSubject, deviceTokens: string[]): Promise<Outcome<never>> {
  const hasFactors = hasAnyFactor(factors);
  const mandatory = mustUseMfa(deps, flow.details, flow.client, account);
  if (!hasFactors && !mandatory) return finish(account.id, passwordOnly(), false, 'password');
  if (hasFactors && rememberAllowed(deps, flow)) {
    // Records the device's use (and checks it again: it may have been forgotten since the lookup).
    if (deviceTokens.length && await deps.mfa.trustedDevices.isTrusted(account.id, deviceTokens)) {
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
  // The email stays typed. A refused passkey says only that it could not be
  // used: its reason ("not registered to your account") is for the logs.
  refusal: (message, action, body) =>
    (action === 'passkey' ? { error: t('login.passkeyFailed') } : { email: (body.email ?? '').trim(), error: message }),
  refusalEvent: (ctx, flow, action, reason) => ({
    type: 'sign_in.failed', outcome: 'failure', actor: { kind: 'anonymous' }, client_id: String(flow.details.params.client_id),
    method: action === 'passkey' ? 'passkey' : 'password', reason: reason === 'throttled' ? 'throttled' : 'passkey_refused', ...requestMeta(ctx),
  }),
};
