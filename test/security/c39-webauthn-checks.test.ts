// needs: postgres redis
// C39 WebAuthn checks. A software authenticator (test/helpers/soft-authenticator.ts)
// is enrolled on /account/security-keys, then used to sign in with a passkey
// (login page, POST /interaction/:uid/passkey) and as a second factor (after
// the password, POST /interaction/:uid/second-factor, method=webauthn).
// Both refuse: a counter that does not grow (same or lower than the last
// accepted one), a wrong origin in clientDataJSON (another site, another port),
// an RP ID hash of another domain, a replayed assertion, a fresh signature over
// an old (already used) challenge, an assertion made for another pending
// sign-in's challenge; the passkey sign-in also refuses UV=0. Each case starts
// with a control sign-in that the same key passes, so a refusal is the
// server's check and not a broken test authenticator; after each refusal the
// browser is not signed in (prompt=none: login_required; a new request asks
// for the password).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import {
  concurrencyLimit, codeOf, describe, hasWebauthnOptions, isPasswordStep, isSecondFactorStep, newUser, startMfaFixture,
  webauthnOptions, type MfaBrowser, type MfaFixture, type MfaUser, type Step,
} from './_support-mfa.ts';
import {
  accountBrowser, assertNotSignedIn, beginSignIn, completeSignIn, enrolSecurityKey, passwordStepDone, submitKeyAsSecondFactor,
  submitPasskey,
} from './_support-mfa-flow.ts';

let fixture: MfaFixture;
/** Many tests, each with its own user and key: four at a time. */
const limited = concurrencyLimit(4);

test.before(async () => {
  fixture = await startMfaFixture();
});
test.after.always(async () => {
  await fixture?.stop();
});

type Via = 'passkey' | 'second-factor';
type Options = Parameters<SoftAuthenticator['authenticate']>[0];

/** A new user with the soft authenticator enrolled as a security key / passkey (with user verification). */
async function userWithKey(): Promise<{ user: MfaUser; key: SoftAuthenticator }> {
  const user = await newUser(fixture);
  const key = new SoftAuthenticator({ rpId: new URL(fixture.issuer).hostname, origin: fixture.issuer });
  const { browser } = await accountBrowser(fixture, user);
  await enrolSecurityKey(browser, user, key, { userVerified: true });
  return { user, key };
}

/** A new browser at the WebAuthn step: the login page (passkey), or the second-factor page after the password. */
async function atKeyStep(user: MfaUser, via: Via): Promise<{ browser: MfaBrowser; step: Step; options: Options }> {
  const browser = fixture.browser();
  const step = via === 'passkey' ? (await beginSignIn(fixture, browser)).step : await passwordStepDone(fixture, browser, user);
  const expected = via === 'passkey' ? isPasswordStep(step) : isSecondFactorStep(step);
  if (!expected) throw new Error(`expected the ${via === 'passkey' ? 'login' : 'second-factor'} page, got ${describe(step)}`);
  if (!hasWebauthnOptions(step.html)) throw new Error(`the ${via} page has no #webauthn-options`);
  return { browser, step, options: webauthnOptions<Options>(step.html) };
}

const submit = (via: Via, browser: MfaBrowser, step: Step, response: AuthenticationResponseJSON): Promise<Step> =>
  via === 'passkey' ? submitPasskey(browser, step, response) : submitKeyAsSecondFactor(browser, step, response);

/** Control: a good assertion signs in (to a code for the client). Returns the assertion and its challenge. */
async function controlSignIn(t: ExecutionContext, user: MfaUser, key: SoftAuthenticator, via: Via, counter: number) {
  const { browser, step, options } = await atKeyStep(user, via);
  const response = key.authenticate(options, { counter, userVerified: true });
  const answer = await submit(via, browser, step, response);
  if (answer.response.status >= 400) throw new Error(`control: a good assertion (${via}) was refused: ${describe(answer)}`);
  const done = await completeSignIn(browser, answer, user);
  if (!codeOf(done)) throw new Error(`control: the ${via} sign-in did not reach the client: ${describe(done)}`);
  t.pass();
  return { response, challenge: options.challenge, counter };
}

/** A refusal: a 4xx page on the issuer (no code), and the browser is not signed in. */
async function assertRefused(t: ExecutionContext, browser: MfaBrowser, answer: Step, label: string) {
  t.is(answer.location, undefined, `${label}: must not go back to the client (${describe(answer)})`);
  t.is(codeOf(answer), undefined, `${label}: no code`);
  t.true(answer.response.status >= 400 && answer.response.status < 500, `${label}: refused with 4xx, got ${describe(answer)}`);
  await assertNotSignedIn(t, fixture, browser, label);
}

interface AttackContext {
  key: SoftAuthenticator;
  user: MfaUser;
  via: Via;
  /** This interaction's request options. */
  options: Options;
  /** The control sign-in: its accepted assertion, challenge and counter. */
  last: { response: AuthenticationResponseJSON; challenge: string; counter: number };
}

interface Case {
  name: string;
  only?: Via;
  attack(context: AttackContext): Promise<AuthenticationResponseJSON> | AuthenticationResponseJSON;
}

const CONTROL_COUNTER = 5;

const CASES: Case[] = [
  {
    name: 'a counter equal to the last accepted one',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter }),
  },
  {
    name: 'a counter lower than the last accepted one',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter - 1 }),
  },
  {
    name: 'UV=0 (no user verification) for a passkey sign-in',
    only: 'passkey',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter + 1, userVerified: false }),
  },
  {
    name: 'another site\'s origin in clientDataJSON',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter + 1, origin: 'https://evil.example' }),
  },
  {
    name: 'the issuer\'s host on another port in clientDataJSON',
    attack: ({ key, options, last }) => {
      const other = new URL(fixture.issuer);
      other.port = String(Number(other.port) + 1);
      return key.authenticate(options, { counter: last.counter + 1, origin: other.origin });
    },
  },
  {
    name: 'the RP ID hash of another domain',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter + 1, rpId: 'evil.example' }),
  },
  {
    name: 'a replay of the accepted assertion (reused challenge)',
    attack: ({ last }) => last.response,
  },
  {
    name: 'a fresh signature (higher counter) over the already used challenge of the earlier sign-in',
    attack: ({ key, options, last }) => key.authenticate(options, { counter: last.counter + 1, challenge: last.challenge }),
  },
  {
    name: 'an assertion made for another pending sign-in\'s challenge',
    attack: async ({ key, user, via, last }) => {
      const other = await atKeyStep(user, via);
      return key.authenticate(other.options, { counter: last.counter + 1 });
    },
  },
];

for (const via of ['passkey', 'second-factor'] as const) {
  for (const c of CASES.filter((c) => !c.only || c.only === via)) {
    test(`C39: ${via === 'passkey' ? 'passkey sign-in' : 'security key as second factor'} refuses ${c.name}`, (t) => limited(async () => {
      t.timeout(120_000);
      const { user, key } = await userWithKey();
      const last = await controlSignIn(t, user, key, via, CONTROL_COUNTER);

      const { browser, step, options } = await atKeyStep(user, via);
      const forged = await c.attack({ key, user, via, options, last });
      const answer = await submit(via, browser, step, forged);
      await assertRefused(t, browser, answer, c.name);
    }));
  }
}

test('C39: control: a growing counter keeps working after refused assertions (the refusals were the checks, not a broken key)', (t) => limited(async () => {
  t.timeout(120_000);
  const { user, key } = await userWithKey();
  await controlSignIn(t, user, key, 'second-factor', CONTROL_COUNTER);
  const stale = await atKeyStep(user, 'second-factor');
  await assertRefused(t, stale.browser, await submit('second-factor', stale.browser, stale.step, key.authenticate(stale.options, { counter: CONTROL_COUNTER })), 'same counter');
  await controlSignIn(t, user, key, 'second-factor', CONTROL_COUNTER + 1);
  await controlSignIn(t, user, key, 'passkey', CONTROL_COUNTER + 2);
}));
