// The end of the login prompt: remember the device when asked, forget this
// interaction's progress, and hand oidc-provider the account with acr/amr.
import type Koa from 'koa';
import { deviceLabel } from '../mfa/trusted-devices/trusted-devices.ts';
import { addDeviceToken } from '../http/trusted-device-cookie.ts';
import { finishStep, type InteractionDependencies } from './context.ts';
import type { Flow } from './flow.ts';
import type { Outcome } from './outcome.ts';

/** Whether this sign-in may offer "Remember this device". */
export const rememberAllowed = (deps: InteractionDependencies, flow: Flow): boolean =>
  flow.client.trustedDevices && deps.config.mfa.trustedDeviceTtl > 0;

export async function finishLogin(deps: InteractionDependencies, ctx: Koa.Context, flow: Flow, done: Extract<Outcome<unknown>, { kind: 'finish' }>) {
  const { accountId, result, rememberDevice } = done;
  if (rememberDevice && rememberAllowed(deps, flow)) {
    const ttl = deps.config.mfa.trustedDeviceTtl;
    const { token } = await deps.mfa.trustedDevices.remember(accountId, deviceLabel(ctx.get('user-agent')), ttl);
    addDeviceToken(ctx, deps.config.https, token, ttl);
    deps.logger.info({ accountId }, 'trusted device remembered');
  }
  await deps.progress.clear(flow.uid);
  await finishStep(deps, ctx, { login: { accountId, acr: result.acr, amr: result.amr, remember: true } });
}
