// Debian's haproxy in front of Latchkey nodes, with the very configuration
// users deploy (docs/deploy/haproxy.cfg): its environment (bind addresses,
// node addresses) is filled in, and its `server node1 ...` line is repeated
// once per node. Runs in the foreground (-db) on free loopback ports and is
// killed on stop. Its access log (stdout) names the node of every request.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT } from './server-process.ts';

export const HAPROXY = '/usr/sbin/haproxy';
export const HAPROXY_CONFIG = join(ROOT, 'docs', 'deploy', 'haproxy.cfg');

/** One request as haproxy logged it. */
export interface LoggedRequest {
  /** The node that answered (node1, node2, ...), or <NOSRV>. */
  node: string;
  status: number;
  method: string;
  path: string;
  /** How many times haproxy retried the connection ("+" prefix in the log means redispatched). */
  retries: string;
}

export interface Haproxy {
  port: number;
  /** http://localhost:<port>: the nodes' ISSUER. */
  origin: string;
  statsOrigin: string;
  /** Everything haproxy printed so far. */
  output(): string;
  /** The requests logged so far, in order. */
  requests(): LoggedRequest[];
  /** Each node's state on the stats page: UP, DOWN, "UP 1/2" (going down) and so on. */
  states(): Promise<Record<string, string>>;
  /** Resolves when every node reads `state` (default UP). */
  waitFor(nodes: string[], state?: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The deployed configuration for `nodes` backends: every `server nodeN` line
 * of the file is replaced by one line per node made from the first, so the
 * options of the deployed line are the tested ones.
 */
export function haproxyConfig(nodes: number): string {
  const lines = readFileSync(HAPROXY_CONFIG, 'utf8').split('\n');
  const servers = lines.map((line, index) => (/^\s*server node\d+ /.test(line) ? index : -1)).filter((index) => index >= 0);
  if (servers.length === 0) throw new Error(`${HAPROXY_CONFIG} has no "server nodeN" line`);
  const template = lines[servers[0]];
  const generated = Array.from({ length: nodes }, (_, i) => template.replace(/node\d+/, `node${i + 1}`).replace(/LATCHKEY_NODE\d+/, `LATCHKEY_NODE${i + 1}`));
  return [...lines.slice(0, servers[0]), ...generated, ...lines.filter((_, index) => index > servers[0] && !servers.includes(index))].join('\n');
}

const LOG_LINE = /\s(\S+)\/(\S+) \S+ (\d{3}) .*?"(\w+) (\S+) HTTP/;

/** Starts haproxy for Latchkey nodes listening on these loopback ports. */
export async function startHaproxy(nodePorts: number[], options: { port?: number } = {}): Promise<Haproxy> {
  const port = options.port ?? await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(nodePorts.length));
  const env: Record<string, string> = {
    ...process.env as Record<string, string>,
    LATCHKEY_LB_BIND: `127.0.0.1:${port}`,
    LATCHKEY_LB_STATS: `127.0.0.1:${statsPort}`,
  };
  nodePorts.forEach((nodePort, i) => { env[`LATCHKEY_NODE${i + 1}`] = `127.0.0.1:${nodePort}`; });
  const child = spawn(HAPROXY, ['-f', config, '-db'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  child.stdout.on('data', (chunk) => { printed += chunk; });
  child.stderr.on('data', (chunk) => { printed += chunk; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const statsOrigin = `http://127.0.0.1:${statsPort}`;

  const states = async () => {
    const csv = await (await fetch(`${statsOrigin}/stats;csv`)).text();
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n').map((line) => line.split(','));
    const [name, server, status] = ['pxname', 'svname', 'status'].map((column) => header.indexOf(column));
    return Object.fromEntries(rows.filter((row) => row[name] === 'latchkey_nodes' && /^node\d+$/.test(row[server])).map((row) => [row[server], row[status]]));
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const haproxy: Haproxy = {
    port,
    origin: `http://localhost:${port}`,
    statsOrigin,
    output: () => printed,
    requests: () => printed.split('\n').flatMap((line) => {
      const match = LOG_LINE.exec(line);
      if (!match || match[1] !== 'latchkey_nodes') return [];
      const retries = /\s\S{4} \d+\/\d+\/\d+\/\d+\/([+]?\d+) /.exec(line)?.[1] ?? '0';
      return [{ node: match[2], status: Number(match[3]), method: match[4], path: match[5], retries }];
    }),
    states,
    async waitFor(nodes, state = 'UP', timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, string> = {};
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${printed}`);
        try {
          last = await states();
          if (nodes.every((node) => last[node] === state)) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`haproxy: ${nodes.join(', ')} not ${state} within ${timeoutMs} ms (${JSON.stringify(last)}):\n${printed.slice(-3000)}`);
    },
    stop,
  };
  try {
    await haproxy.waitFor(nodePorts.map((_, i) => `node${i + 1}`));
  } catch (error) {
    await stop();
    throw error;
  }
  return haproxy;
}
