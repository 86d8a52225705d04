// The one database handle every store receives: a pg.Pool, whether it points
// at a real Postgres (DATABASE_URL) or at embedded PGlite over a unix socket.
import pg from 'pg';
import { StoreUnavailableError } from '../errors.ts';
import { multiHostClient } from './multi-host.ts';
import { parsePostgresUrl } from './postgres-url.ts';

export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's own default row type
  query<R extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Queryable {
  /** Runs fn inside BEGIN/COMMIT on one connection; rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /**
   * Run every statement in its own transaction. pglite-socket executes each
   * protocol message separately and keeps one connection's messages together
   * only inside a transaction; without this, two connections' Parse/Bind/
   * Execute sequences could interleave on PGlite's single session.
   */
  exclusiveStatements?: boolean;
  onClose?: () => Promise<void>;
  /** Errors of idle pooled connections (database restart, failover). */
  onIdleError?: (error: Error) => void;
}

// Socket errors of a connection that failed, was refused or timed out.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// SQLSTATEs of a server that is going away, not accepting, overloaded, read-only after a
// failover, or a statement cancelled by statement_timeout.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300', '25006']);
// node-postgres' own messages for a dead connection, a connect timeout and query_timeout.
const UNAVAILABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|no host accepted)/;

/**
 * Whether `error` says the database cannot be reached or did not answer in
 * time (as opposed to a bad query or a constraint): such errors become a 503.
 */
export function isUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  // Connection refused on every address of a host name: an AggregateError.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isUnavailable);
}

/** The one place a database error of the "down or hung" kind becomes a StoreUnavailableError (503). */
const classify = (error: unknown): unknown => (isUnavailable(error) ? new StoreUnavailableError('database', error) : error);

export function createDatabase(pool: pg.Pool, options: DatabaseOptions = {}): Database {
  // Without a listener, an idle connection dying would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const transaction: Database['transaction'] = async (fn) => {
    const client = await pool.connect().catch((error: unknown) => { throw classify(error); });
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (isUnavailable(error)) broken = error as Error;
      else await client.query('ROLLBACK').catch(() => {});
      throw classify(error);
    } finally {
      // A connection that failed is not handed out again (release(error) destroys it).
      client.release(broken);
    }
  };
  return {
    query: options.exclusiveStatements
      ? (sql, params) => transaction((tx) => tx.query(sql, params as unknown[]))
      : (sql, params) => pool.query(sql, params as unknown[]).catch((error: unknown) => { throw classify(error); }),
    transaction,
    async close() {
      await pool.end();
      await options.onClose?.();
    },
  };
}

export interface PostgresTimeouts {
  /** Postgres cancels a statement running longer (statement_timeout), ms; 0: no limit. */
  statementMs: number;
  /** A new connection must be open and authenticated within this, ms. */
  connectMs: number;
}

export const DEFAULT_TIMEOUTS: PostgresTimeouts = { statementMs: 5_000, connectMs: 3_000 };

export function connectPostgres(url: string, max = 10, onIdleError?: (error: Error) => void, timeouts: PostgresTimeouts = DEFAULT_TIMEOUTS): Database {
  const target = parsePostgresUrl(url);
  // A host list, or a read-write requirement: each new connection picks its host (multi-host.ts).
  const choosing = target.hosts.length > 1 || target.readWrite;
  return createDatabase(new pg.Pool({
    connectionString: target.singleHostUrl,
    ...(choosing && { Client: multiHostClient(target, timeouts.connectMs) }),
    max,
    // Postgres cancels a slow statement itself; a connection that stopped
    // answering (hung server, half-open socket) is given up on by the client
    // a second later, so no request waits on the database for long.
    ...(timeouts.statementMs > 0 && { statement_timeout: timeouts.statementMs, query_timeout: timeouts.statementMs + 1_000 }),
    // Each host gets connectMs (plus the connection itself once one was chosen).
    connectionTimeoutMillis: timeouts.connectMs * (choosing ? target.hosts.length + 1 : 1),
    keepAlive: true,
  }), { onIdleError });
}
