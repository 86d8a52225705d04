// Readiness checks: one check in flight per store, a deadline, an answer
// within the wait whatever the store does, and every failure named.
import test from 'ava';
import { createReadiness } from '../../server/health/readiness.ts';
import { StoreCheck } from '../../server/health/store-check.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store whose answers the test releases by hand. */
function manualStore() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  return {
    calls: () => pending.length,
    run: () => new Promise<void>((resolve, reject) => { pending.push({ resolve, reject }); }),
    answer: () => pending.at(-1)!.resolve(),
    fail: (message: string) => pending.at(-1)!.reject(new Error(message)),
  };
}

test('a store that answers within the deadline is ok; its refusal is named by its code, the message kept for the log', async (t) => {
  let refuse: Error | undefined;
  const check = new StoreCheck('postgres', async () => { if (refuse) throw refuse; }, 1_000);
  t.deepEqual(await check.status(100), { ok: true });
  refuse = Object.assign(new Error('connect ECONNREFUSED 10.0.3.4:5432'), { code: 'ECONNREFUSED' });
  t.deepEqual(await check.status(100), { ok: false, reason: 'error ECONNREFUSED', detail: 'connect ECONNREFUSED 10.0.3.4:5432' });
  refuse = new Error('password authentication failed for user "latchkey"');
  t.deepEqual(await check.status(100), { ok: false, reason: 'error', detail: 'password authentication failed for user "latchkey"' }, 'no address or user name in the public reason');
});

test('a hanging store gets one check in flight, answers within the wait, and fails once the check is older than the deadline', async (t) => {
  const store = manualStore();
  const check = new StoreCheck('redis', store.run, 300);
  const first = Date.now();
  t.deepEqual(await check.status(50), { ok: false, reason: 'no answer yet' });
  t.true(Date.now() - first < 250);
  await check.status(50);
  await check.status(50);
  t.is(store.calls(), 1, 'probes share the check in flight');
  await sleep(300);
  const late = await check.status(50);
  t.false(late.ok);
  t.regex(late.reason!, /^no answer for \d+\.\d s$/);
  t.is(store.calls(), 1);
  // The store answers again, too late for that check; the next one starts afresh.
  store.answer();
  await sleep(10);
  t.is(store.calls(), 1);
  const next = check.status(200);
  store.answer();
  t.deepEqual(await next, { ok: true });
  t.is(store.calls(), 2);
});

test('while a check younger than the deadline runs, a probe gets the last outcome', async (t) => {
  const store = manualStore();
  const check = new StoreCheck('postgres', store.run, 1_000);
  const first = check.status(500);
  store.answer();
  t.deepEqual(await first, { ok: true });
  t.deepEqual(await check.status(20), { ok: true }, 'the new check has not answered yet: still ok');
  store.fail('too many clients');
  t.deepEqual(await check.status(20), { ok: false, reason: 'error', detail: 'too many clients' });
});

test('an answer after the deadline counts as a failure', async (t) => {
  const store = manualStore();
  const check = new StoreCheck('postgres', store.run, 50);
  await check.status(10);
  await sleep(80);
  store.answer();
  await sleep(10);
  // A new check is in flight, younger than the deadline: the probe gets the last outcome, the late answer.
  const outcome = await check.status(10);
  t.is(store.calls(), 2);
  t.false(outcome.ok);
  t.regex(outcome.reason!, /^answered after \d+\.\d s \(limit 0\.05 s\)$/);
});

test('readiness runs the store checks in parallel and names every failed check', async (t) => {
  const hung = manualStore();
  let shuttingDown = false;
  const readiness = createReadiness([
    new StoreCheck('postgres', async () => {}),
    new StoreCheck('redis', hung.run, 100),
  ], [
    { name: 'shutdown', failure: () => (shuttingDown ? 'shutting down' : undefined) },
    { name: 'keys', failure: () => undefined },
  ], 50);
  await readiness();
  await sleep(120);
  const started = Date.now();
  const report = await readiness();
  t.true(Date.now() - started < 500, 'answers within the wait, not the hanging store');
  t.false(report.ready);
  t.deepEqual(Object.keys(report.failed), ['redis']);
  hung.answer();
  await sleep(10);
  const recovering = readiness();
  hung.answer();
  t.deepEqual(await recovering, { ready: true, failed: {} });
  shuttingDown = true;
  const next = readiness();
  hung.answer();
  t.deepEqual(await next, { ready: false, failed: { shutdown: 'shutting down' } });
});
