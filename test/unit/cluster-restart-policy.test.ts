// The primary's restart rule: a worker that served a while is replaced at
// once; workers dying soon after their fork back off, doubling, and after
// too many in a row the primary gives up instead of forking in a loop.
import test from 'ava';
import { RestartPolicy } from '../../server/cluster/restart-policy.ts';

const options = { quickMs: 10_000, maxQuickCrashes: 4, firstDelayMs: 500, maxDelayMs: 1_500 };

test('a worker that ran a while is replaced at once', (t) => {
  const policy = new RestartPolicy(options);
  t.is(policy.afterExit(60_000), 0);
  t.is(policy.afterExit(60_000), 0);
});

test('crashes at start back off, capped, then give up', (t) => {
  const policy = new RestartPolicy(options);
  t.is(policy.afterExit(100), 500);
  t.is(policy.afterExit(100), 1_000);
  t.is(policy.afterExit(100), 1_500, 'capped at maxDelayMs');
  t.is(policy.afterExit(100), undefined, 'the fourth in a row gives up');
});

test('a worker that served a while resets the count', (t) => {
  const policy = new RestartPolicy(options);
  policy.afterExit(100);
  policy.afterExit(100);
  policy.afterExit(100);
  t.is(policy.afterExit(20_000), 0);
  t.is(policy.quickCrashes, 0);
  t.is(policy.afterExit(100), 500);
});
