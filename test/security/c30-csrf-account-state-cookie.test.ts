// needs: postgres redis
// C30 the account page's sign-in round trip: /account/callback redirects to
// /account only with the state this browser was given, in the state cookie
// Latchkey signed (latchkey_account_state plus its .sig, keyed with the
// cookie keys). An unsigned cookie, a made-up or borrowed signature, a value
// changed under its signature, or another browser's state ends on the error
// page (400), never a redirect. The real round trip, and the real sign-in
// through the account page, still work.
import test, { type ExecutionContext } from 'ava';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, newUser, startMfaFixture, type MfaFixture } from './_support-mfa.ts';
import { accountBrowser } from './_support-mfa-flow.ts';

const STATE_COOKIE = 'latchkey_account_state';

let fixture: MfaFixture;

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

interface StateCookie {
  /** The `state` the browser was sent to /auth with. */
  state: string;
  value: string;
  sig: string;
}

/** What a browser without a session gets from GET /account: the state it signs in with and the signed cookie holding it. */
async function issuedState(): Promise<StateCookie> {
  const browser = fixture.browser();
  const response = await browser.request('/account');
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 303 || !location) throw new Error(`GET /account without a session should redirect to sign in, got ${response.status}`);
  const state = new URL(location).searchParams.get('state');
  const value = browser.cookies.get(STATE_COOKIE);
  const sig = browser.cookies.get(`${STATE_COOKIE}.sig`);
  if (!state || !value || !sig) throw new Error(`expected state, ${STATE_COOKIE} and its .sig; got ${[...browser.cookies.keys()].join(', ')}`);
  return { state, value, sig };
}

/** GET /account/callback?state=… with exactly these cookies (name=value pairs). */
async function callback(state: string, cookies: Record<string, string>): Promise<{ status: number; location: string | null; html: string }> {
  const browser = fixture.browser();
  for (const [name, value] of Object.entries(cookies)) browser.cookies.set(name, value);
  const response = await browser.request(`/account/callback?state=${encodeURIComponent(state)}`);
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

/** A signature in the cookie library's format (keygrip: HMAC-SHA1, base64url) under a key Latchkey does not have. */
const foreignSig = (value: string) =>
  createHmac('sha1', randomBytes(32)).update(`${STATE_COOKIE}=${value}`).digest('base64').replace(/\//g, '_').replace(/\+/g, '-').replace(/=+$/, '');

function assertErrorPage(t: ExecutionContext, answer: { status: number; location: string | null; html: string }, label: string) {
  t.is(answer.status, 400, `${label}: ${answer.status}${answer.location ? ` -> ${answer.location}` : ''}`);
  t.is(answer.location, null, `${label}: must not redirect`);
  t.regex(answer.html, /<html/i, `${label}: the error page`);
}

test('C30: /account/callback with a forged state cookie and no signature is the error page, not a redirect to /account', async (t) => {
  assertErrorPage(t, await callback('abc', { [STATE_COOKIE]: 'abc./account' }), 'unsigned cookie');
  // An issued state and value, without the .sig that came with them.
  const issued = await issuedState();
  assertErrorPage(t, await callback(issued.state, { [STATE_COOKIE]: issued.value }), 'issued cookie without its .sig');
});

test('C30: a state cookie with a wrong signature is the error page', async (t) => {
  const issued = await issuedState();
  const other = await issuedState();
  const forged = `${randomBytes(16).toString('base64url')}./account`;
  const forgedState = forged.split('.')[0];
  assertErrorPage(t, await callback(forgedState, { [STATE_COOKIE]: forged, [`${STATE_COOKIE}.sig`]: foreignSig(forged) }), 'signed with a foreign key');
  assertErrorPage(t, await callback(forgedState, { [STATE_COOKIE]: forged, [`${STATE_COOKIE}.sig`]: issued.sig }), "another cookie's signature");
  assertErrorPage(t, await callback(issued.state, { [STATE_COOKIE]: issued.value, [`${STATE_COOKIE}.sig`]: other.sig }), "another browser's signature");
  assertErrorPage(t, await callback(issued.state, { [STATE_COOKIE]: `${issued.value}/totp`, [`${STATE_COOKIE}.sig`]: issued.sig }), 'value changed under its signature');
  assertErrorPage(t, await callback(issued.state, { [STATE_COOKIE]: issued.value, [`${STATE_COOKIE}.sig`]: '' }), 'empty signature');
});

test("C30: the state is bound to the browser it was issued to: another browser's state is the error page", async (t) => {
  const mine = await issuedState();
  const theirs = await issuedState();
  assertErrorPage(t, await callback(theirs.state, { [STATE_COOKIE]: mine.value, [`${STATE_COOKIE}.sig`]: mine.sig }), "another browser's state");
  assertErrorPage(t, await callback(mine.state, {}), 'no state cookie at all');
  // Control: the issued state with its own signed cookie is accepted (so the refusals above come from the checks).
  const accepted = await callback(mine.state, { [STATE_COOKIE]: mine.value, [`${STATE_COOKIE}.sig`]: mine.sig });
  t.is(accepted.status, 303, `the real round trip: ${accepted.status}`);
  t.is(accepted.location, '/account');
});

test('C30: control: signing in through the account page still works', async (t) => {
  const user = await newUser(fixture);
  const { page } = await accountBrowser(fixture, user);
  t.is(page.response.status, 200, describe(page));
  t.is(new URL(page.url).pathname, '/account', describe(page));
  t.regex(page.html, new RegExp(user.email.replace(/[.+]/g, '\\$&')), 'the account page of the signed-in user');
});
