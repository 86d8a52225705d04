// The one database handle every store receives: a pg.Pool, whether it points
// at a real Postgres (DATABASE_URL) or at embedded PGlite over a unix socket.
import pg from 'pg';

export interface Queryable {
  query<R extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface Database extends Queryable {
  /** Runs fn inside BEGIN/COMMIT on one connection; rolls back on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function createDatabase(pool: pg.Pool, onClose: () => Promise<void> = async () => {}): Database {
  return {
    query: (sql, params) => pool.query(sql, params as unknown[]),
    async transaction(fn) {
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
    },
    async close() {
      await pool.end();
      await onClose();
    },
  };
}

export function connectPostgres(url: string, max = 10): Database {
  return createDatabase(new pg.Pool({ connectionString: url, max }));
}
