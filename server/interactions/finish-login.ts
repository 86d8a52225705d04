// The end of the login prompt: remember the device when asked, forget this
// interaction's progress, and hand oidc-provider the account with acr/amr.
import type Koa from 'koa';
import { byAccount } from '../events/request-meta.ts';
import type { SignInMethod } from '../events/security-event.ts';
import type { SignInResult } from '../mfa/policy.ts';
import { deviceLabel } from '../mfa/trusted-devices/trusted-devices.ts';
import { addDeviceToken } from '../http/trusted-device-cookie.ts';
import { finishStep, type InteractionDependencies } from './context.ts';
import type { Flow } from './flow.ts';
import type { Outcome } from './outcome.ts';

/** Whether this sign-in may offer "Remember this device". */
export const rememberAllowed = (deps: InteractionDependencies, flow: Flow): boolean =>
  flow.client.trustedDevices && deps.config.mfa.trustedDeviceTtl > 0;

/** What completed a sign-in, when the step did not say: read from what it proved. */
export function methodOf(result: SignInResult): SignInMethod {
  const amr: readonly string[] = result.amr;
  if (amr.includes('hwk') || amr.includes('swk')) return amr.includes('pwd') ? 'webauthn' : 'passkey';
  if (amr.includes('otp')) return 'totp';
  return amr.includes('mfa') ? 'trusted_device' : 'password';
}

export async function finishLogin(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow, done: Extract<Outcome<unknown>, { kind: 'finish' }>) {
  const { accountId, result, rememberDevice } = done;
  const who = { ...byAccount(ctx, accountId), client_id: String(flow.details.params.client_id) };
  if (rememberDevice && rememberAllowed(deps, flow)) {
    const ttl = deps.config.mfa.trustedDeviceTtl;
    const { token } = await deps.mfa.trustedDevices.remember(accountId, deviceLabel(ctx.get('user-agent')), ttl);
    addDeviceToken(ctx, deps.config.https, token, ttl);
    deps.events.emit({ type: 'trusted_device.added', outcome: 'success', ...who, details: { ttl_seconds: ttl } });
  }
  await deps.progress.clear(flow.uid);
  await finishStep(deps, ctx, { login: { accountId, acr: result.acr, amr: result.amr, remember: true } });
  // Only once oidc-provider took the result (an expired interaction throws first).
  deps.events.emit({ type: 'sign_in.succeeded', outcome: 'success', ...who, method: done.method ?? methodOf(result), details: { acr: result.acr } });
}
