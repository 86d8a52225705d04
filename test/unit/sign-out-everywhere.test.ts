import test from 'ava';
import { issuedBeforeRevocation, lineageIssuedAt } from '../../server/accounts/types.ts';

const revokedAt = new Date(1_800_000_000_500); // 1_800_000_000.5 s

test('nothing is revoked without a sign-out', (t) => {
  t.false(issuedBeforeRevocation({ sessionsRevokedAt: null }, 1));
});

test('tokens and sessions from before the sign-out second are revoked', (t) => {
  const account = { sessionsRevokedAt: revokedAt };
  t.true(issuedBeforeRevocation(account, 1_799_999_999));
  // Same whole second: counts as after, so signing in again right away works.
  t.false(issuedBeforeRevocation(account, 1_800_000_000));
  t.false(issuedBeforeRevocation(account, 1_800_000_001));
  t.true(issuedBeforeRevocation(account, undefined), 'no issue time: treated as old');
});

test('a rotated refresh token counts from the first token of its chain', (t) => {
  const account = { sessionsRevokedAt: revokedAt };
  const rotatedAfterSignOut = { iat: 1_800_000_005, iiat: 1_799_999_000 };
  t.is(lineageIssuedAt(rotatedAfterSignOut), 1_799_999_000);
  t.true(issuedBeforeRevocation(account, lineageIssuedAt(rotatedAfterSignOut)));
  t.is(lineageIssuedAt({ iat: 42 }), 42);
});
