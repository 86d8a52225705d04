// needs: postgres
// The audit trail's storage against real Postgres: the batching sink, the
// append-only trigger, retention in batches, and the CLI's audit commands
// (run as a child process) recording and showing admin changes.
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { connectPostgres, type Database } from '../../server/db/database.ts';
import { insertEvents, listEvents, pruneBatch, recentAccountActivity } from '../../server/events/audit-store.ts';
import { PostgresAuditSink } from '../../server/events/postgres-sink.ts';
import { pruneAuditEvents } from '../../server/events/retention.ts';
import { SecurityEvents, type SecurityEvent, type SecurityEventInput } from '../../server/events/security-event.ts';
import { NODE, ROOT, runCli } from '../helpers/server-process.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

let database: TestDatabase;
let db: Database;
const tmp = mkdtempSync(join(tmpdir(), 'latchkey-audit-'));
const env = () => ({ DATABASE_URL: database.url, LATCHKEY_SECRET: randomBytes(32).toString('base64'), NODE_ENV: 'test', DATA_DIR: tmp });

test.before(async () => {
  database = await createTestDatabase();
  db = connectPostgres(database.url);
});
test.after.always(async () => {
  await db?.close();
  await database?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

const DAY = 86_400_000;
const event = (input: Partial<SecurityEventInput> & { time?: Date } = {}): SecurityEvent => ({
  schema: 1,
  type: 'sign_in.succeeded',
  actor: { kind: 'account', id: 'acc-1' },
  subject: 'acc-1',
  outcome: 'success',
  ...input,
  time: (input.time ?? new Date()).toISOString(),
});

/** A pino logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test.serial('an event is stored with every schema-1 field and read back as it was', async (t) => {
  const tag = `req-${randomBytes(4).toString('hex')}`;
  const full = event({
    type: 'second_factor.refused', outcome: 'failure', reason: 'invalid_code', method: 'totp', client_id: 'app',
    ip: '203.0.113.9', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0', request_id: tag, details: { remaining: 3, during: 'sign_in', ok: false },
  });
  await insertEvents(db, [full, event({ type: 'admin.changed', actor: { kind: 'admin', id: 'root', host: 'box' }, subject: undefined, details: { command: 'users create' } })]);
  const [stored] = (await listEvents(db, { type: 'second_factor.refused' })).filter((e) => e.request_id === tag);
  const { id, ...rest } = stored;
  t.true(id > 0);
  t.deepEqual(rest, full);
  const [admin] = await listEvents(db, { type: 'admin.changed', limit: 1 });
  t.deepEqual(admin.actor, { kind: 'admin', id: 'root', host: 'box' });
  t.false('subject' in admin, 'an absent field stays absent');
});

test.serial('the filters: account (subject or acting account), client, type and type prefix, since', async (t) => {
  const account = `acc-${randomBytes(4).toString('hex')}`;
  await insertEvents(db, [
    event({ subject: account, actor: { kind: 'account', id: account }, client_id: 'one', time: new Date(Date.now() - 3 * DAY) }),
    event({ type: 'sign_in.failed', outcome: 'failure', reason: 'bad_password', subject: account, actor: { kind: 'anonymous' }, client_id: 'two' }),
    event({ type: 'factor.added', subject: account, actor: { kind: 'account', id: account }, details: { kind: 'totp' } }),
  ]);
  t.is((await listEvents(db, { account })).length, 3);
  t.deepEqual((await listEvents(db, { account, client: 'two' })).map((e) => e.reason), ['bad_password']);
  t.is((await listEvents(db, { account, type: 'sign_in.' })).length, 2);
  t.is((await listEvents(db, { account, type: 'sign_in' })).length, 0, 'without the dot a type is exact');
  t.is((await listEvents(db, { account, since: new Date(Date.now() - DAY) })).length, 2);
  const recent = await recentAccountActivity(db, account, ['sign_in.succeeded', 'factor.added']);
  t.deepEqual(recent.map((e) => e.type), ['factor.added', 'sign_in.succeeded'], 'newest first, only the listed types');
});

test.serial('append-only: UPDATE, DELETE and TRUNCATE from the application\'s own connection fail', async (t) => {
  await insertEvents(db, [event({ time: new Date(Date.now() - 400 * DAY) })]);
  await t.throwsAsync(db.query("UPDATE audit_events SET outcome = 'failure'"), { message: /append-only \(UPDATE refused\)/ });
  await t.throwsAsync(db.query('DELETE FROM audit_events'), { message: /append-only \(DELETE refused\)/ });
  await t.throwsAsync(db.query("DELETE FROM audit_events WHERE time < now() - interval '300 days'"), { message: /append-only/ });
  await t.throwsAsync(db.query('TRUNCATE audit_events'), { message: /append-only \(TRUNCATE refused\)/ });
  t.true((await listEvents(db, { since: new Date(Date.now() - 401 * DAY), limit: 10_000 })).length > 0);
});

test.serial('retention: events past it go in batches of the given size; younger ones, and any younger than a day, stay', async (t) => {
  const old = Array.from({ length: 2500 }, (_, i) => event({ subject: 'old', time: new Date(Date.now() - 100 * DAY - i * 1000) }));
  await insertEvents(db, old);
  await insertEvents(db, [event({ subject: 'kept-89d', time: new Date(Date.now() - 89 * DAY) }), event({ subject: 'kept-new' })]);
  // One batch deletes at most its size.
  t.is(await pruneBatch(db, new Date(Date.now() - 90 * DAY), 1000), 1000);
  // The loop takes the rest (and anything older left by earlier tests), batch by batch.
  const removed = await pruneAuditEvents(db, 90 * 86400, { batch: 700 });
  t.true(removed >= 1500, `removed ${removed}`);
  t.is((await listEvents(db, { account: 'old' })).length, 0);
  t.is((await listEvents(db, { account: 'kept-89d' })).length, 1);
  // Even asked to delete everything, the prune leaves the last day alone.
  await pruneBatch(db, new Date(Date.now() + DAY), 10_000);
  t.is((await listEvents(db, { account: 'kept-new' })).length, 1);
});

test.serial('the Postgres sink writes in batches off the request path, in order, and flushes on close', async (t) => {
  const { logger } = capturingLogger();
  let inserts = 0;
  const counting = { query: (sql: string, params?: unknown[]) => { if (sql.includes('INSERT INTO audit_events')) inserts += 1; return db.query(sql, params); } };
  const sink = new PostgresAuditSink(counting, logger, { batchSize: 4, flushMs: 10_000 });
  const events = new SecurityEvents();
  events.addSink(sink);
  const subject = `batch-${randomBytes(4).toString('hex')}`;
  for (let i = 0; i < 10; i += 1) events.emit({ type: 'token.issued', outcome: 'success', actor: { kind: 'client', id: 'c' }, subject, details: { n: i } });
  t.is(inserts <= 2, true, 'nothing waits for the database while emitting');
  await sink.close();
  const stored = await listEvents(db, { account: subject });
  t.deepEqual(stored.map((e) => e.details?.n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(inserts, 3, '10 events in batches of 4');
});

test.serial('the Postgres sink survives a failing database and a full queue: logged, counted, never thrown', async (t) => {
  const { logger, lines } = capturingLogger();
  let fail = true;
  const flaky = { query: (sql: string, params?: unknown[]) => (fail ? Promise.reject(new Error('connection refused')) : db.query(sql, params)) };
  const sink = new PostgresAuditSink(flaky, logger, { batchSize: 100, flushMs: 5, maxQueue: 3 });
  const subject = `flaky-${randomBytes(4).toString('hex')}`;
  for (let i = 0; i < 5; i += 1) sink.record(event({ subject, details: { n: i } }));
  await sink.flush();
  t.true(lines.some((l) => l.level === 50 && l.msg === 'writing audit events to Postgres failed' && l.events === 3));
  t.true(lines.some((l) => l.level === 40 && l.dropped_events === 5), 'the 2 past the queue bound and the 3 of the failed batch');
  fail = false;
  sink.record(event({ subject, details: { n: 9 } }));
  await sink.close();
  t.deepEqual((await listEvents(db, { account: subject })).map((e) => e.details?.n), [9], 'it carries on once the database answers');
});

test.serial('one event Postgres refuses does not take its batch with it; NUL in a detail is cleaned, not refused', async (t) => {
  const { logger, lines } = capturingLogger();
  const sink = new PostgresAuditSink(db, logger, { batchSize: 100, flushMs: 5 });
  const subject = `batch-${randomBytes(4).toString('hex')}`;
  sink.record(event({ subject, details: { n: 1, grant_type: 'x\u0000y' } }));
  sink.record(event({ subject, outcome: 'maybe' as never, details: { n: 2 } })); // the outcome CHECK refuses it
  sink.record(event({ subject, details: { n: 3 } }));
  await sink.close();
  t.deepEqual((await listEvents(db, { account: subject })).map((e) => [e.details?.n, e.details?.grant_type]), [[1, 'xy'], [3, undefined]]);
  t.true(lines.some((l) => l.level === 40 && l.dropped_events === 1), 'only the refused event is dropped');
});

test.serial('latchkey audit list shows the CLI change just made, with the OS user and host; reads are not recorded', async (t) => {
  const environment = env();
  const email = `audit-${randomBytes(4).toString('hex')}@example.com`;
  const created = await runCli(environment, ['users', 'create', '--email', email, '--password-stdin', '--json'], { stdin: 'correct horse battery staple 42' });
  t.is(created.code, 0, created.stderr);
  const accountId = created.json().id;
  t.is((await runCli(environment, ['users', 'list'])).code, 0);

  const listed = await runCli(environment, ['audit', 'list', '--type', 'admin.changed', '--account', accountId, '--json']);
  t.is(listed.code, 0, listed.stderr);
  const { events } = listed.json<{ events: SecurityEvent[] }>();
  t.is(events.length, 1);
  t.like(events[0], { schema: 1, type: 'admin.changed', outcome: 'success', subject: accountId, actor: { kind: 'admin', id: userInfo().username, host: hostname() }, details: { command: 'users create' } });
  t.false(JSON.stringify(events).includes('correct horse'), 'never the password');
  const all = await runCli(environment, ['audit', 'list', '--type', 'admin.changed', '--json']);
  t.false(all.json<{ events: SecurityEvent[] }>().events.some((e) => e.details?.command === 'users list'));

  const text = await runCli(environment, ['audit', 'list', '--account', accountId, '--since', '1h']);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /^ID\s+TIME\s+TYPE\s+OUTCOME\s+ACTOR/);
  t.true(text.stdout.includes(`admin:${userInfo().username}@${hostname()}`));
  t.true(text.stdout.includes('command=users create'));

  const bad = await runCli(environment, ['audit', 'list', '--since', 'yesterday-ish']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^latchkey: --since "yesterday-ish" is neither a time/);
});

test.serial('latchkey audit tail prints events as they are stored, as JSON lines, and ends on SIGINT', async (t) => {
  // --since: whenever the tail gets going (a loaded machine is slow to start it), it finds what was stored since.
  const since = new Date(Date.now() - 1000).toISOString();
  const child = spawn(NODE, [join(ROOT, 'server', 'cli', 'main.ts'), 'audit', 'tail', '--json', '--interval', '1s', '--type', 'session.ended', '--since', since], { cwd: ROOT, env: { ...process.env, ...env() } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    const tag = `tail-${randomBytes(4).toString('hex')}`;
    await insertEvents(db, [event({ type: 'sign_in.failed', outcome: 'failure', request_id: tag }), event({ type: 'session.ended', reason: 'signed_out', request_id: tag })]);
    const deadline = Date.now() + 30_000;
    while (!stdout.includes(tag) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // A second one, stored while it follows.
    await insertEvents(db, [event({ type: 'session.ended', reason: 'signed_out', request_id: `${tag}-2` })]);
    while (!stdout.includes(`${tag}-2`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const lines = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    t.deepEqual(lines.map((l) => l.request_id), [tag, `${tag}-2`], stdout + stderr);
    t.like(lines[0], { type: 'session.ended', schema: 1, reason: 'signed_out' });
  } finally {
    child.kill('SIGINT');
  }
  t.is(await exited, 0, stderr);
});
