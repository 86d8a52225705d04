// needs: postgres, redis
// The audit trail through the real server: a password + TOTP sign-in is
// sign_in.succeeded and second_factor.passed (method totp) in audit_events
// and on stdout, with the request's id, IP and browser; a wrong password is
// sign_in.failed with its reason; no password or code is ever in an event;
// and /account shows the user the activity.
import test from 'ava';
import pg from 'pg';
import { codeOf, MfaBrowser, newUser, uniqueIp, type MfaFixture, startMfaFixture } from '../security/_support-mfa.ts';
import { accountOverview, beginSignIn, completeSignIn, enrolTotp, openAccountPage, submitPassword } from '../security/_support-mfa-flow.ts';
import { totpCodeForStep, totpStep, sleep } from '../security/_support-mfa-totp.ts';
import type { StoredEvent } from '../../server/events/audit-store.ts';

const CHROME_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/** A browser that says what it is (the activity list names it). */
class ChromeBrowser extends MfaBrowser {
  override request(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('user-agent', CHROME_ON_LINUX);
    return super.request(url, { ...init, headers });
  }
}

let fixture: MfaFixture;
test.before(async () => { fixture = await startMfaFixture(); });
test.after.always(async () => { await fixture?.stop(); });

async function auditRows(subject: string | null, type: string): Promise<StoredEvent[]> {
  const client = new pg.Client({ connectionString: fixture.server.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT * FROM audit_events WHERE ($1::text IS NULL OR subject = $1) AND type = $2 ORDER BY id', [subject, type]);
    return rows;
  } finally {
    await client.end();
  }
}

/** The rows once the sink has flushed them (it batches every ~200 ms). */
async function eventually(subject: string | null, type: string, count = 1, match: (row: any) => boolean = () => true): Promise<any[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = (await auditRows(subject, type)).filter(match);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await sleep(100);
  }
}

/** The events the server printed as JSON lines (audit: true). */
const printedEvents = (): Record<string, any>[] => fixture.server.output().split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => { try { return JSON.parse(line); } catch { return undefined; } })
  .filter((line) => line?.audit === true)
  .map((line) => line.event);

test('password + TOTP: sign_in.succeeded and second_factor.passed (totp) with request id, IP and browser; /account lists them', async (t) => {
  const user = await newUser(fixture);
  const setup = fixture.browser();
  await openAccountPage(setup, user);
  const { device } = await enrolTotp(setup, user);

  const ip = uniqueIp();
  const browser = new ChromeBrowser(fixture.issuer, ip);
  const { step } = await beginSignIn(fixture, browser);
  const done = await completeSignIn(browser, step, user);
  t.truthy(codeOf(done), 'the sign-in returned a code');

  const [passed] = await eventually(user.id, 'second_factor.passed', 1, (r) => r.ip === ip);
  const [succeeded] = await eventually(user.id, 'sign_in.succeeded', 1, (r) => r.ip === ip);
  t.like(passed, { schema: 1, outcome: 'success', method: 'totp', actor_kind: 'account', actor_id: user.id, client_id: fixture.client.client_id, user_agent: CHROME_ON_LINUX });
  t.like(succeeded, { schema: 1, outcome: 'success', method: 'totp', actor_kind: 'account', actor_id: user.id, client_id: fixture.client.client_id });
  t.regex(passed.request_id, /^[0-9a-f-]{36}$/);
  t.is(succeeded.request_id, passed.request_id, 'both happened in the one POST of the code');

  // The same events on stdout, as JSON lines.
  const printed = printedEvents().filter((e) => e.request_id === passed.request_id);
  t.deepEqual(printed.map((e) => e.type).sort(), ['second_factor.passed', 'sign_in.succeeded']);
  t.like(printed.find((e) => e.type === 'sign_in.succeeded'), { schema: 1, method: 'totp', subject: user.id, ip, actor: { kind: 'account', id: user.id } });

  // What the user sees: this sign-in, with the browser, the IP and the time.
  const page = await openAccountPage(browser, user);
  const activity = /<ul class="items" id="activity">([\s\S]*?)<\/ul>/.exec(page.html)?.[1] ?? '';
  t.regex(activity, /Signed in<\/strong> · authenticator app/);
  t.true(activity.includes(`Chrome on Linux, ${ip}`), activity);
  t.regex(activity, /<time datetime="\d{4}-\d\d-\d\dT[^"]+Z" title="[^"]+">(just now|\d+ minutes? ago)<\/time>/);
  t.regex(activity, /Second step added<\/strong> · authenticator app/);

  // No password or code in any event, stored or printed.
  const step0 = totpStep();
  const codes = await Promise.all([-3, -2, -1, 0, 1, 2].map((d) => totpCodeForStep(device.secret, step0 + d)));
  const stored = JSON.stringify(await auditRows(user.id, 'sign_in.succeeded')) + JSON.stringify(await auditRows(user.id, 'second_factor.passed'));
  for (const text of [stored, JSON.stringify(printedEvents())]) {
    t.false(text.includes(user.password), 'no password');
    for (const code of codes) t.false(new RegExp(`"[^"]*${code}[^"]*"`).test(text.replace(/"(request_id|time)":"[^"]*"/g, '')), `no TOTP code (${code})`);
  }
  await accountOverview(browser);
});

test('a wrong password: sign_in.failed with reason bad_password, and neither the password nor the email in it', async (t) => {
  const user = await newUser(fixture);
  const ip = uniqueIp();
  const browser = fixture.browser(ip);
  const wrong = `${user.password}-not-it`;
  const { step } = await beginSignIn(fixture, browser);
  const refused = await submitPassword(browser, step, user.email, wrong);
  t.is(refused.response.status, 401);
  const unknown = await submitPassword(browser, refused, `nobody-${user.email}`, wrong);
  t.is(unknown.response.status, 401);

  const failed = await eventually(null, 'sign_in.failed', 2, (r) => r.ip === ip);
  t.deepEqual(failed.map((r) => r.reason), ['bad_password', 'unknown_account']);
  t.like(failed[0], { outcome: 'failure', method: 'password', actor_kind: 'anonymous', client_id: fixture.client.client_id });
  t.regex(failed[0].request_id, /^[0-9a-f-]{36}$/);
  const everything = JSON.stringify(failed) + JSON.stringify(printedEvents());
  t.false(everything.includes(wrong));
  t.false(everything.includes(user.email), 'nor the email typed');
});
