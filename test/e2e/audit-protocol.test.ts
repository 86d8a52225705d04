// needs: postgres redis
// oidc-provider's happenings in the audit trail, through the real server:
// tokens issued for a user's grant, refresh token reuse (refused, detected,
// grant revoked), a refused client, sign-out; machine tokens only with
// AUDIT_MACHINE_TOKENS=true.
import test from 'ava';
import * as client from 'openid-client';
import pg from 'pg';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { codeFlow, createCodeClient, createUser, discover, eventually, oauthError, type TestUser } from './support.ts';

const API = 'https://audit.internal';
let server: RunningServer;
let machines: RunningServer;
let config: client.Configuration;
let clientId: string;
let user: TestUser;

test.before(async () => {
  [server, machines] = await Promise.all([startServer(), startServer({ env: { AUDIT_MACHINE_TOKENS: 'true' } })]);
  const created = await createCodeClient(server, 'Audited app', ['--grant', 'refresh_token', '--first-party']);
  clientId = created.client_id;
  config = await discover(server, clientId, client.ClientSecretBasic(created.client_secret));
  user = await createUser(server, 'audit');
});
test.after.always(async () => {
  await Promise.all([server?.stop(), machines?.stop()]);
});

async function rows(on: RunningServer, where: string, params: unknown[]): Promise<any[]> {
  const db = new pg.Client({ connectionString: on.env.DATABASE_URL });
  await db.connect();
  try {
    return (await db.query(`SELECT * FROM audit_events WHERE ${where} ORDER BY id`, params)).rows;
  } finally {
    await db.end();
  }
}

const some = (on: RunningServer, where: string, params: unknown[], count = 1) =>
  eventually(where, async () => { const found = await rows(on, where, params); return found.length >= count ? found : undefined; }, 10_000);

test.serial('user tokens issued; a reused refresh token is refused, detected and its grant revoked', async (t) => {
  const { tokens } = await codeFlow(server, config, user, { scope: 'openid email' });
  const first = tokens.refresh_token!;
  await client.refreshTokenGrant(config, first);
  t.is(await oauthError(client.refreshTokenGrant(config, first)), 'invalid_grant');

  const issued = await some(server, "type = 'token.issued' AND subject = $1", [user.id], 2);
  t.deepEqual(issued.map((r) => r.details.grant_type), ['authorization_code', 'refresh_token']);
  t.like(issued[0], { outcome: 'success', actor_kind: 'account', actor_id: user.id, client_id: clientId });
  const [reuse] = await some(server, "type = 'refresh_token.reuse_detected' AND subject = $1", [user.id]);
  t.like(reuse, { outcome: 'failure', reason: 'refresh_token_reuse', client_id: clientId });
  const [refused] = await some(server, "type = 'token.refused' AND subject = $1", [user.id]);
  t.like(refused, { reason: 'invalid_grant', request_id: reuse.request_id, details: { grant_type: 'refresh_token', endpoint: 'token' } });
  const [revoked] = await some(server, "type = 'grant.revoked' AND subject = $1", [user.id]);
  t.like(revoked, { reason: 'refresh_token_reuse', request_id: reuse.request_id });
  t.truthy(revoked.details.grant_id);
  const all = JSON.stringify(await rows(server, 'subject = $1', [user.id]));
  for (const secret of [first, tokens.access_token, tokens.id_token!]) t.false(all.includes(secret), 'no token value');
});

test.serial('machine tokens: no event by default, one each with AUDIT_MACHINE_TOKENS=true; a wrong secret is always token.refused', async (t) => {
  for (const on of [server, machines]) {
    await on.admin(['apis', 'create', '--identifier', API, '--scope', 'things:read']);
    const m = await on.admin<{ client_id: string; client_secret: string }>(['clients', 'create', '--name', 'Machine', '--grant', 'client_credentials', '--api', API, '--scope', 'things:read']);
    const machineConfig = await eventually('the client is live', async () => {
      const c = await discover(on, m.client_id, client.ClientSecretBasic(m.client_secret));
      return (await client.clientCredentialsGrant(c, { scope: 'things:read' }).then(() => c, () => undefined));
    }, 10_000);
    await client.clientCredentialsGrant(machineConfig, { scope: 'things:read' });
    const wrong = await discover(on, m.client_id, client.ClientSecretBasic(`${m.client_secret}x`));
    t.is(await oauthError(client.clientCredentialsGrant(wrong, { scope: 'things:read' })), 'invalid_client');
    const [refused] = await some(on, "type = 'token.refused' AND client_id = $1", [m.client_id]);
    t.like(refused, { reason: 'invalid_client', actor_kind: 'client', details: { grant_type: 'client_credentials' } });
    // The admin changes that made them are there too.
    t.is((await rows(on, "type = 'admin.changed' AND client_id = $1", [m.client_id])).length, 1);
    const issued = await rows(on, "type = 'token.issued' AND client_id = $1", [m.client_id]);
    if (on === server) t.is(issued.length, 0, 'machine tokens are counted in metrics, not logged one by one');
    else t.true(issued.length >= 2 && issued.every((r) => r.actor_kind === 'client' && r.details.grant_type === 'client_credentials'));
  }
});

test.serial('signing out is session.ended, and the grant it ends is grant.revoked (signed_out)', async (t) => {
  const { tokens, browser } = await codeFlow(server, config, user, { scope: 'openid' });
  const logout = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! });
  const page = await browser.follow(logout.href);
  const form = /<form[^>]*action="([^"]+)"[\s\S]*?name="xsrf" value="([^"]+)"/.exec(page.html);
  t.truthy(form, page.html.slice(0, 500));
  await browser.follow(form![1], { method: 'POST', form: { xsrf: form![2], logout: 'yes' } });
  const [ended] = await some(server, "type = 'session.ended' AND subject = $1", [user.id]);
  t.like(ended, { outcome: 'success', reason: 'signed_out', actor_kind: 'account' });
  const revoked = await some(server, "type = 'grant.revoked' AND reason = 'signed_out' AND subject = $1", [user.id]);
  t.true(revoked.length >= 1);
});
