// What the account page needs, injected, and the signed-in session it serves.
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountService } from '../accounts/account-service.ts';
import { outlivedSession } from '../accounts/session-lifetime.ts';
import { issuedBeforeRevocation, type Account, type AccountLookup } from '../accounts/types.ts';
import type { Config } from '../config/index.ts';
import type { StoredEvent } from '../events/audit-store.ts';
import type { SecurityEvents } from '../events/security-event.ts';
import { sessionOfRequest } from '../oidc/internals.ts';
import type { MfaServices } from '../mfa/index.ts';
import { addedFactor, provedPossession, satisfiesMfa, secondFactorRequired, withSecondFactor } from '../mfa/policy.ts';
import type { Factor } from '../mfa/types.ts';
import type { SignInProgressStore } from '../progress/sign-in-progress.ts';

export interface AccountPageDependencies {
  config: Config;
  logger: Logger;
  provider: () => Provider;
  accounts: AccountLookup & Pick<AccountService, 'changePassword'>;
  mfa: MfaServices;
  /** The TOTP secret being set up, per session (encrypted, like a sign-in's own set-up). */
  setups: SignInProgressStore;
  csrfKey: Buffer;
  /** Factor, recovery code, device and password changes are recorded here. */
  events: SecurityEvents;
  /** The account's recent security activity, newest first (server/events/audit-store.ts). */
  recentActivity(accountId: string): Promise<StoredEvent[]>;
}

export interface AccountSession {
  /** oidc-provider's session id (its `uid`): binds CSRF tokens and pending set-ups. */
  sessionUid: string;
  account: Account;
  hasFactors: boolean;
  /** Signed in recently enough, with a second factor when the account has one, to change factors or the password. */
  fresh: boolean;
}

const now = () => Math.floor(Date.now() / 1000);

/** The signed-in account of this browser, or undefined when it must (re-)sign in. */
export async function loadAccountSession(deps: AccountPageDependencies, ctx: Koa.Context): Promise<AccountSession | undefined> {
  const session = await sessionOfRequest(deps.provider(), ctx);
  if (!session.accountId || session.loginTs === undefined) return undefined;
  if (outlivedSession(session.loginTs, deps.config.ttl)) return undefined;
  const account = await deps.accounts.findById(session.accountId);
  if (!account || account.disabled || issuedBeforeRevocation(account, session.loginTs)) return undefined;
  const hasFactors = await deps.mfa.factors.hasFactors(account.id);
  // A session short of the second factor the account needs must step up first.
  const required = secondFactorRequired({ policy: deps.config.mfa.policy, account: { requireMfa: account.requireMfa, hasFactors }, client: { requireMfa: false } });
  if (required && !satisfiesMfa(session, { trustedDevices: true })) return undefined;
  const recent = now() - session.loginTs <= deps.config.mfa.reauthWindow;
  return {
    sessionUid: session.uid,
    account,
    hasFactors,
    fresh: recent && (!hasFactors || provedPossession(session.amr)),
  };
}

/**
 * A factor added on the page was proven by adding it (its first code, or the
 * key that made the credential): the session counts it as a sign-in with it
 * would (acr/amr, policy.ts), so the account page and apps asking for MFA do
 * not ask for it again at once. auth_time stays that of the sign-in.
 */
export async function recordAddedFactor(deps: AccountPageDependencies, ctx: Koa.Context, accountId: string, factor: Factor): Promise<void> {
  const session = await sessionOfRequest(deps.provider(), ctx);
  if (session.accountId !== accountId) return;
  const { acr, amr } = withSecondFactor(addedFactor(factor), session.amr ?? ['pwd']);
  Object.assign(session, { acr, amr });
  await session.persist();
}
