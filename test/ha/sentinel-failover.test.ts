// needs: postgres
// Sentinel failover drill: one primary, one replica, three sentinels (started
// here); Latchkey with REDIS_SENTINELS. Under sign-in and token load (refresh
// and introspection) the primary is killed with SIGKILL once the replica has
// everything (WAIT). Latchkey must serve again within 10 s of the promotion,
// without a restart, and the sessions and refresh tokens written before the
// failure must still work. The window and the failed requests are logged.
import test from 'ava';
import * as client from 'openid-client';
import { authorizationRequest, codeFlow, createCodeClient, createUser, discover, errorCode, type SignedIn, type TestUser } from '../e2e/support.ts';
import { SENTINEL_NAME, startSentinelSetup, type SentinelSetup } from '../helpers/redis-sentinel.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

const PROMOTION_TO_SERVICE_MS = 10_000;

let setup: SentinelSetup;
let server: RunningServer;
let config: client.Configuration;
let user: TestUser;

test.before(async () => {
  setup = await startSentinelSetup();
  server = await startServer({ env: { REDIS_URL: '', REDIS_SENTINELS: setup.sentinels, REDIS_SENTINEL_NAME: SENTINEL_NAME } });
  const created = await createCodeClient(server, 'Failover app', ['--grant', 'refresh_token', '--first-party']);
  config = await discover(server, created.client_id, client.ClientSecretBasic(created.client_secret));
  user = await createUser(server, 'failover');
});

test.after.always(async () => {
  await server?.stop();
  await setup?.dispose();
});

const signedIn = async (): Promise<SignedIn & { refresh: string }> => {
  const flow = await codeFlow(server, config, user, { scope: 'openid email' });
  if (!flow.tokens.refresh_token) throw new Error('no refresh token');
  return { ...flow, refresh: flow.tokens.refresh_token };
};

interface Outcome { kind: string; started: number; ended: number; ok: boolean; error?: string }

/** A call that neither hangs the loop nor throws: a hang past 15 s counts as a failure. */
async function timed(kind: string, call: () => Promise<unknown>, outcomes: Outcome[]): Promise<boolean> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([call(), new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no answer within 15 s')), 15_000); })]);
    outcomes.push({ kind, started, ended: Date.now(), ok: true });
    return true;
  } catch (error) {
    outcomes.push({ kind, started, ended: Date.now(), ok: false, error: (await errorCode(error)) ?? (error as Error).message.split('\n')[0].slice(0, 160) });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

test('SIGKILL of the primary under load: service resumes within 10 s of the promotion, earlier sessions and refresh tokens survive', async (t) => {
  // Written before the failure: sessions (the browsers' cookies) and refresh tokens.
  const earlier = [await signedIn(), await signedIn(), await signedIn()];
  const introspected = (await signedIn()).tokens.access_token;
  let refresh = (await signedIn()).refresh;

  const outcomes: Outcome[] = [];
  let running = true;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
  const loops = [
    (async () => {
      while (running) {
        await timed('introspection', async () => {
          if (!(await client.tokenIntrospection(config, introspected)).active) throw new Error('introspection: inactive');
        }, outcomes);
        await pause();
      }
    })(),
    (async () => {
      while (running) {
        const ok = await timed('refresh', async () => { refresh = (await client.refreshTokenGrant(config, refresh)).refresh_token!; }, outcomes);
        // A rotation whose answer was lost consumed the token: the client signs in again.
        if (!ok && outcomes.at(-1)?.error === 'invalid_grant') await timed('sign-in', async () => { refresh = (await signedIn()).refresh; }, outcomes);
        await pause();
      }
    })(),
    (async () => {
      while (running) {
        await timed('sign-in', signedIn, outcomes);
        await pause();
      }
    })(),
  ];

  await new Promise((resolve) => setTimeout(resolve, 1_500));
  // Everything written so far is on the replica before the primary dies.
  const primary = setup.primary.client();
  await primary.set('latchkey-drill:marker', '1');
  t.is(await primary.call('WAIT', '1', '2000'), 1, 'the replica acknowledged every write');
  primary.disconnect();
  const killedAt = Date.now();
  await setup.primary.stop('SIGKILL');

  let promotedAt: number | undefined;
  while (Date.now() - killedAt < 30_000) {
    if (await setup.primaryPort() === setup.replica.port) {
      promotedAt = Date.now();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.truthy(promotedAt, 'the sentinels promoted the replica within 30 s');

  // Each kind of request must succeed again, started after the promotion.
  const kinds = ['introspection', 'refresh', 'sign-in'];
  const recovered = () => kinds.every((kind) => outcomes.some((o) => o.kind === kind && o.ok && o.started >= promotedAt!));
  while (promotedAt && !recovered() && Date.now() - promotedAt < PROMOTION_TO_SERVICE_MS + 15_000) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 500));
  running = false;
  await Promise.all(loops);

  const firstSuccess = (kind: string) => outcomes.find((o) => o.kind === kind && o.ok && o.started >= killedAt)?.ended;
  const failed = outcomes.filter((o) => !o.ok && o.ended >= killedAt);
  const before = outcomes.filter((o) => o.ended < killedAt);
  t.log(`requests before the kill: ${before.length} (${before.filter((o) => !o.ok).length} failed)`);
  t.log(`promotion ${((promotedAt! - killedAt) / 1000).toFixed(2)} s after the kill`);
  for (const kind of kinds) {
    const at = firstSuccess(kind);
    t.log(`${kind}: first success ${at ? `${((at - killedAt) / 1000).toFixed(2)} s after the kill, ${((at - promotedAt!) / 1000).toFixed(2)} s after the promotion` : 'never'}; ` +
      `${failed.filter((o) => o.kind === kind).length} failed of ${outcomes.filter((o) => o.kind === kind && o.started >= killedAt).length} started after the kill`);
    t.truthy(at, `${kind} recovered`);
    t.true(at! - promotedAt! <= PROMOTION_TO_SERVICE_MS, `${kind} serves within 10 s of the promotion`);
  }
  const reasons = new Map<string, number>();
  for (const o of failed) reasons.set(`${o.kind}: ${o.error}`, (reasons.get(`${o.kind}: ${o.error}`) ?? 0) + 1);
  t.log(`failed requests after the kill: ${failed.length} — ${[...reasons].map(([reason, n]) => `${n}× ${reason}`).join('; ') || 'none'}`);

  // What was written before the failure survived it.
  for (const [n, grant] of earlier.entries()) {
    const rotated = await client.refreshTokenGrant(config, grant.refresh);
    t.truthy(rotated.access_token, `refresh token ${n} written before the failure still rotates`);
    const request = await authorizationRequest(config, { prompt: 'none' });
    const step = await grant.browser.follow(request.url.toString());
    const back = new URL(step.location ?? 'about:blank');
    t.truthy(back.searchParams.get('code'), `session ${n} written before the failure still signs in without a password (${back.searchParams.get('error') ?? step.url})`);
  }
});
