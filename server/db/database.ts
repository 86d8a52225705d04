// The one database handle every store receives: a pg.Pool, whether it points
// at a real Postgres (DATABASE_URL) or at embedded PGlite over a unix socket.
import pg from 'pg';

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

export function createDatabase(pool: pg.Pool, options: DatabaseOptions = {}): Database {
  // Without a listener, an idle connection dying would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  const transaction: Database['transaction'] = async (fn) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
  return {
    query: options.exclusiveStatements
      ? (sql, params) => transaction((tx) => tx.query(sql, params as unknown[]))
      : (sql, params) => pool.query(sql, params as unknown[]),
    transaction,
    async close() {
      await pool.end();
      await options.onClose?.();
    },
  };
}

export function connectPostgres(url: string, max = 10, onIdleError?: (error: Error) => void): Database {
  // A query on a half-open connection fails after 30 s instead of hanging for ever.
  return createDatabase(new pg.Pool({ connectionString: url, max, query_timeout: 30_000, keepAlive: true }), { onIdleError });
}
