// DATABASE_URL as libpq spells it: one host or a comma-separated list
// (postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write). Parsed
// here, without node-postgres, so the settings can check it too.
export interface HostPort { host: string; port: number }

export interface PostgresTarget {
  /** Empty when the URL names none (a unix socket given as ?host=). */
  hosts: HostPort[];
  /** Only a server that accepts writes will do (libpq's target_session_attrs=read-write). */
  readWrite: boolean;
  /** The URL with the first host only and without target_session_attrs: what node-postgres parses. */
  singleHostUrl: string;
}

const SESSION_ATTRS = new Set(['any', 'read-write']);

/** "db1", "db1:5433", "[::1]:5433" */
function hostPort(entry: string, position: string): HostPort {
  const bracketed = entry.startsWith('[');
  const close = bracketed ? entry.indexOf(']') : -1;
  const colon = bracketed ? (entry[close + 1] === ':' ? close + 1 : -1) : entry.lastIndexOf(':');
  const host = bracketed ? entry.slice(1, close) : entry.slice(0, colon === -1 ? undefined : colon);
  const portText = colon === -1 ? '5432' : entry.slice(colon + 1);
  if (!host || (bracketed && (close === -1 || (close + 1 < entry.length && colon === -1))) || (!bracketed && host.includes(']'))) {
    // The entry is never quoted: a password with an unencoded / ? or # ends
    // the authority early and leaves part of itself where the host should be.
    throw new Error(`${position}: not a host[:port] (is the password percent-encoded?)`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new Error(`${position}: no valid port (is the password percent-encoded?)`);
  }
  return { host, port: Number(portText) };
}

/** Parses a Postgres URL with one host or a comma-separated list; throws a one-line reason. */
export function parsePostgresUrl(url: string): PostgresTarget {
  const scheme = ['postgres://', 'postgresql://'].find((prefix) => url.startsWith(prefix));
  if (!scheme) throw new Error('must be a URL starting with postgres:// or postgresql://');
  const afterScheme = url.slice(scheme.length);
  const authorityEnd = afterScheme.search(/[/?#]/);
  const authority = authorityEnd === -1 ? afterScheme : afterScheme.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : afterScheme.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1);
  // No host (a unix socket named by ?host=): node-postgres reads it as it is.
  const hosts = hostList === '' ? [] : hostList.split(',').map((entry, index, all) => hostPort(entry, all.length === 1 ? 'the host' : `host ${index + 1} of ${all.length}`));
  // The query string: target_session_attrs is ours; node-postgres reads the rest.
  const queryStart = rest.indexOf('?');
  const path = queryStart === -1 ? rest : rest.slice(0, queryStart);
  const params = new URLSearchParams(queryStart === -1 ? '' : rest.slice(queryStart + 1));
  const attrs = params.get('target_session_attrs') ?? 'any';
  if (!SESSION_ATTRS.has(attrs)) throw new Error(`target_session_attrs=${attrs} is not supported (use read-write or any)`);
  params.delete('target_session_attrs');
  const query = params.toString();
  const first = hosts.length === 0 ? '' : `${hosts[0].host.includes(':') ? `[${hosts[0].host}]` : hosts[0].host}:${hosts[0].port}`;
  const singleHostUrl = `${scheme}${userinfo}${first}${path}${query ? `?${query}` : ''}`;
  // The rest of it must be a URL node-postgres can parse.
  if (!URL.canParse(singleHostUrl)) throw new Error('is not a valid URL');
  return { hosts, readWrite: attrs === 'read-write', singleHostUrl };
}
