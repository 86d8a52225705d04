// Postgres HA as libpq spells it: DATABASE_URL may list several hosts
// (postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write). node-postgres
// connects to one host only, and no maintained library adds libpq's host list
// to it, so this does the minimal thing: each new pooled connection tries the
// hosts in order, starting with the last one that was right, and takes the
// first that accepts (with target_session_attrs=read-write: that answers
// SHOW transaction_read_only with off). A failover then costs the requests
// whose connections died (503s): the pool drops them, and the next
// connections find the new primary, without a restart.
import pg from 'pg';
import type { HostPort, PostgresTarget } from './postgres-url.ts';

/** What a host answered when a connection was tried on it. */
export type HostProbe = (host: HostPort) => Promise<'read-write' | 'read-only'>;

/**
 * The host a new connection should use: the last good one first, then the
 * others in the listed order. Rejects (an AggregateError of every host's
 * reason) when none will do.
 */
export class HostChooser {
  readonly #hosts: HostPort[];
  readonly #readWrite: boolean;
  #preferred = 0;

  constructor(target: Pick<PostgresTarget, 'hosts' | 'readWrite'>) {
    this.#hosts = target.hosts;
    this.#readWrite = target.readWrite;
  }

  async choose(probe: HostProbe): Promise<HostPort> {
    const order = this.#hosts.map((_, i) => (this.#preferred + i) % this.#hosts.length);
    const reasons: Error[] = [];
    for (const index of order) {
      const host = this.#hosts[index];
      try {
        const mode = await probe(host);
        if (this.#readWrite && mode === 'read-only') {
          reasons.push(Object.assign(new Error(`${host.host}:${host.port} is read-only`), { code: '25006' }));
          continue;
        }
        this.#preferred = index;
        return host;
      } catch (error) {
        reasons.push(error as Error);
      }
    }
    throw new AggregateError(reasons, `no host accepted${this.#readWrite ? ' a read-write session' : ''}: ${reasons.map((r) => r.message).join('; ')}`);
  }
}

/**
 * A pg.Client class for pg.Pool({ Client }) that connects to the host the
 * chooser picks. The probe is a short connection of its own (a pg.Client
 * cannot reconnect after a failed attempt); it costs one extra connection
 * each time the pool opens one, only with a host list.
 */
export function multiHostClient(target: PostgresTarget, connectMs: number): typeof pg.Client {
  const chooser = new HostChooser(target);
  return class MultiHostClient extends pg.Client {
    readonly #config: pg.ClientConfig;

    constructor(config: pg.ClientConfig) {
      super(config);
      this.#config = config;
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: (error: Error | null) => void): void;
    override connect(callback?: (error: Error | null) => void): Promise<pg.Client> | void {
      const connected = chooser.choose(async ({ host, port }) => {
        // The connection string wins over host and port in node-postgres: the probe gets its own.
        const url = new URL(target.singleHostUrl);
        url.hostname = host.includes(':') ? `[${host}]` : host;
        url.port = String(port);
        const probe = new pg.Client({ ...this.#config, connectionString: url.toString(), connectionTimeoutMillis: connectMs });
        probe.on('error', () => {}); // a probe dying after its answer is of no interest
        try {
          await probe.connect();
          if (!target.readWrite) return 'read-write';
          const { rows } = await probe.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
          return rows[0]?.transaction_read_only === 'off' ? 'read-write' : 'read-only';
        } finally {
          await probe.end().catch(() => {});
        }
      }).then(({ host, port }) => {
        // Read by node-postgres' connect (and its connection parameters).
        Object.assign(this, { host, port });
        Object.assign((this as unknown as { connectionParameters: object }).connectionParameters, { host, port });
        return super.connect();
      });
      if (!callback) return connected;
      connected.then(() => callback(null), (error: Error) => callback(error));
    }
  };
}
