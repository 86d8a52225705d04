// needs: postgres redis chromium
// Passkeys and security keys in real Chromium with a CDP virtual authenticator
// (CTAP2, internal transport, resident keys, user verification). The key is
// registered on /account; its credentials are then carried to a fresh browser
// context (a virtual authenticator belongs to one page).
import test from 'ava';
import { authenticatorWith, authorize, expectOn, finishAuthorization, type IdTokenClaims } from '../helpers/chromium.ts';
import {
  ACR_MFA, enrolPasskey, expectSecondFactor, passwordStep, startMfaSuite, type MfaSuite,
} from './mfa-support.ts';

let suite: MfaSuite;

test.before(async () => {
  suite = await startMfaSuite('mfa-passkey');
});

test.after.always(async () => {
  await suite?.stop();
});

/** A WebAuthn amr: hwk (device-bound) or swk (synced), never both. */
const webauthnAmr = (claims: IdTokenClaims) => (claims.amr ?? []).filter((value) => value === 'hwk' || value === 'swk');

test('register a passkey on /account, then "Sign in with a passkey" alone: acr mfa, amr hwk user mfa', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('passkey-sign-in');
  const user = await suite.user('passkey');
  const rp = await suite.relyingParty('Passkey app');
  const { credentials, recoveryCodes, factors } = await enrolPasskey(suite, rp, user, 'Laptop passkey', shot);
  t.is(recoveryCodes.length, 10, 'the first factor comes with 10 recovery codes');
  t.is(factors.length, 1);
  t.regex(factors[0], /Laptop passkey/);
  t.true(credentials[0].isResidentCredential, 'a discoverable credential (passkey)');

  // A fresh browser: the login page, then the same passkey in this page's authenticator.
  const page = await suite.page(t);
  const pending = await authorize(page, rp);
  await expectOn(page, '#passkey-signin', 'the "Sign in with a passkey" button (#passkey-signin)');
  t.is(await page.locator('script#webauthn-options[type="application/json"]').count(), 1, 'WebAuthn options embedded as JSON');
  t.regex(await page.locator('#passkey-signin').innerText(), /Sign in with a passkey/);
  t.regex(await page.locator('input[name="email"]').getAttribute('autocomplete') ?? '', /webauthn/);
  await shot(page, 'login');
  // Added after the page loaded: no conditional (autofill) request can use it, only the button.
  await authenticatorWith(page, credentials);
  await page.click('#passkey-signin');
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.is(webauthnAmr(claims).length, 1, `amr ${JSON.stringify(claims.amr)} names the key kind`);
  t.deepEqual(webauthnAmr(claims), ['hwk'], 'not backed up: device-bound');
  t.true(claims.amr!.includes('user'), 'user verified');
  t.true(claims.amr!.includes('mfa'));
  t.false(claims.amr!.includes('pwd'), 'no password was used');
});

test('a synced passkey (backup eligible and backed up) is swk', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('synced-passkey');
  const user = await suite.user('synced');
  const rp = await suite.relyingParty('Synced passkey app');
  const { credentials } = await enrolPasskey(suite, rp, user, 'Synced passkey', shot, { backedUp: true });

  const page = await suite.page(t);
  const pending = await authorize(page, rp);
  await expectOn(page, '#passkey-signin', 'the "Sign in with a passkey" button (#passkey-signin)');
  await shot(page, 'login');
  await authenticatorWith(page, credentials, { backedUp: true });
  await page.click('#passkey-signin');
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.deepEqual(webauthnAmr(claims), ['swk']);
  t.true(claims.amr!.includes('user'));
  t.true(claims.amr!.includes('mfa'));
});

test('passkey offered in the email field\'s autofill (conditional UI) signs in without a click', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('passkey-autofill');
  const user = await suite.user('autofill');
  const rp = await suite.relyingParty('Autofill passkey app');
  const { credentials } = await enrolPasskey(suite, rp, user, 'Autofill passkey', shot);

  // Chromium's virtual authenticator answers a conditional request at once when it holds a passkey for the RP.
  const page = await suite.page(t);
  await authenticatorWith(page, credentials);
  const pending = await authorize(page, rp);
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.is(webauthnAmr(claims).length, 1);
  t.true(claims.amr!.includes('user'));
  t.true(claims.amr!.includes('mfa'));
});

test('security key as the second factor: password, then #security-key -> amr pwd hwk mfa', async (t) => {
  t.timeout(180_000);
  const shot = suite.shots('security-key-second-factor');
  const user = await suite.user('second-key');
  const rp = await suite.relyingParty('Security key app');
  const { credentials } = await enrolPasskey(suite, rp, user, 'YubiKey', shot);

  const page = await suite.page(t);
  const pending = await authorize(page, rp);
  // No authenticator yet, so the login page's autofill cannot sign in with the passkey.
  await passwordStep(page, user, shot);
  await expectSecondFactor(page, shot);
  await expectOn(page, '#security-key', 'the "Use a security key or passkey" button (#security-key)');
  t.regex(await page.locator('#security-key').innerText(), /Use a security key or passkey/);
  t.is(await page.locator('input[name="password"]').count(), 0);
  await authenticatorWith(page, credentials);
  await page.click('#security-key');
  const { claims } = await finishAuthorization(page, rp, pending, { shot });
  t.is(claims.sub, user.id);
  t.is(claims.acr, ACR_MFA);
  t.true(claims.amr!.includes('pwd'));
  t.deepEqual(webauthnAmr(claims), ['hwk']);
  t.true(claims.amr!.includes('mfa'));
});
