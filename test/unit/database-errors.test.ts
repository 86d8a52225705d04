// Which database errors mean "down or hung" (a 503) rather than a bug (a 500): server/db/database.ts.
import test from 'ava';
import { isUnavailable } from '../../server/db/database.ts';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

test('refused, reset and timed-out connections, and node-postgres\' own timeouts, are unavailability', (t) => {
  for (const error of [
    withCode('ECONNREFUSED'), withCode('ECONNRESET'), withCode('ETIMEDOUT'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
    Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''), {}),
  ]) t.true(isUnavailable(error), String((error as Error).message || 'aggregate'));
});

test('a server shutting down, starting, overloaded, read-only after a failover, or a statement timeout is unavailability', (t) => {
  for (const code of ['57P01', '57P03', '53300', '25006', '57014', '08006', '08001']) t.true(isUnavailable(withCode(code)), code);
});

test('a bad query or a constraint is not', (t) => {
  for (const error of [withCode('23505', 'duplicate key'), withCode('42703', 'column does not exist'), new Error('boom'), undefined, 'text']) {
    t.false(isUnavailable(error));
  }
});
