// DATABASE_URL with a host list (server/db/postgres-url.ts) and the choice of
// host for a new connection (server/db/multi-host.ts), with a scripted probe.
import test from 'ava';
import { HostChooser, type HostProbe } from '../../server/db/multi-host.ts';
import { parsePostgresUrl } from '../../server/db/postgres-url.ts';

test('one host: as node-postgres reads it, the default port made explicit', (t) => {
  t.deepEqual(parsePostgresUrl('postgres://app:s3cret@db.internal/latchkey?sslmode=require'), {
    hosts: [{ host: 'db.internal', port: 5432 }],
    readWrite: false,
    singleHostUrl: 'postgres://app:s3cret@db.internal:5432/latchkey?sslmode=require',
  });
});

test('a host list as libpq writes it, IPv6 too; target_session_attrs is taken out of what node-postgres sees', (t) => {
  const target = parsePostgresUrl('postgresql://app:p%40ss@h1:5432,[::1]:5433,h3/db?target_session_attrs=read-write&application_name=lk');
  t.deepEqual(target.hosts, [{ host: 'h1', port: 5432 }, { host: '::1', port: 5433 }, { host: 'h3', port: 5432 }]);
  t.true(target.readWrite);
  t.is(target.singleHostUrl, 'postgresql://app:p%40ss@h1:5432/db?application_name=lk');
});

test('a URL without a host (a unix socket as ?host=) is left to node-postgres', (t) => {
  t.deepEqual(parsePostgresUrl('postgres:///db?host=/var/run/postgresql').hosts, []);
});

test('bad host lists and unsupported session attributes are refused with a reason', (t) => {
  t.throws(() => parsePostgresUrl('mysql://h/db'), { message: /postgres:\/\// });
  t.throws(() => parsePostgresUrl('postgres://h1,,h2/db'), { message: /not a host\[:port\]/ });
  t.throws(() => parsePostgresUrl('postgres://h1:99999/db'), { message: /no valid port/ });
  t.throws(() => parsePostgresUrl('postgres://h1:x/db'), { message: /no valid port/ });
  // An unencoded / in the password ends the authority inside it: the message names no part of it.
  const leaked = t.throws(() => parsePostgresUrl('postgres://app:s3cr/et@db/latchkey'));
  t.regex(leaked!.message, /^the host: no valid port \(is the password percent-encoded\?\)$/);
  t.false(leaked!.message.includes('s3cr'));
  t.throws(() => parsePostgresUrl('postgres://h1,h2/db?target_session_attrs=standby'), { message: /not supported/ });
});

const h = (host: string) => ({ host, port: 5432 });

test('read-write: a read-only or refusing host is skipped, and the chosen one is tried first next time', async (t) => {
  const chooser = new HostChooser({ hosts: [h('a'), h('b'), h('c')], readWrite: true });
  const tried: string[] = [];
  let modes: Record<string, 'read-write' | 'read-only' | 'down'> = { a: 'down', b: 'read-only', c: 'read-write' };
  const probe: HostProbe = async ({ host }) => {
    tried.push(host);
    if (modes[host] === 'down') throw Object.assign(new Error(`connect ECONNREFUSED ${host}`), { code: 'ECONNREFUSED' });
    return modes[host] as 'read-write' | 'read-only';
  };
  t.is((await chooser.choose(probe)).host, 'c');
  t.deepEqual(tried, ['a', 'b', 'c']);
  tried.length = 0;
  t.is((await chooser.choose(probe)).host, 'c');
  t.deepEqual(tried, ['c'], 'the last good host first');
  // Failover: c goes down, a is promoted.
  modes = { a: 'read-write', b: 'read-only', c: 'down' };
  tried.length = 0;
  t.is((await chooser.choose(probe)).host, 'a');
  t.deepEqual(tried, ['c', 'a']);
});

test('no host will do: one error naming every host\'s reason', async (t) => {
  const chooser = new HostChooser({ hosts: [h('a'), h('b')], readWrite: true });
  const error = await t.throwsAsync(chooser.choose(async ({ host }) => {
    if (host === 'a') throw new Error('connect ECONNREFUSED a');
    return 'read-only';
  }));
  t.regex(error!.message, /no host accepted a read-write session: connect ECONNREFUSED a; b:5432 is read-only/);
});

test('any: a read-only host will do', async (t) => {
  const chooser = new HostChooser({ hosts: [h('a')], readWrite: false });
  t.is((await chooser.choose(async () => 'read-only')).host, 'a');
});
