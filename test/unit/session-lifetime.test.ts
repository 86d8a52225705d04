// The session lifetime rule every caller shares (provider TTL, login policy, /account).
import test from 'ava';
import { outlivedSession, sessionSecondsLeft } from '../../server/accounts/session-lifetime.ts';

const ttl = { sessionIdle: 3600, sessionAbsolute: 86_400 };

test('a session is outlived only past the absolute lifetime, to the millisecond', (t) => {
  t.false(outlivedSession(1000, ttl, 1000 + 86_400));
  t.true(outlivedSession(1000, ttl, 1000 + 86_400.001));
  t.false(outlivedSession(1000, ttl, 1000));
});

test('the time left is the idle lifetime, capped by the absolute one, and at least a second', (t) => {
  t.is(sessionSecondsLeft(1000, ttl, 1000), 3600);
  t.is(sessionSecondsLeft(1000, ttl, 1000 + 86_400 - 60), 60);
  t.is(sessionSecondsLeft(1000, ttl, 1000 + 86_400 - 59.5), 60, 'now is taken in whole seconds');
  t.is(sessionSecondsLeft(1000, ttl, 1000 + 90_000), 1);
});
