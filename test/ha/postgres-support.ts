// Shared by the Postgres drills: timed requests, the admin generation a
// server has applied, and a sign-in attempt that reports the failing answer.
import pg from 'pg';
import { ScriptedBrowser, parseForm } from '../helpers/browser.ts';
import type { RunningServer } from '../helpers/server-process.ts';

/** Runs `work` and returns its result with how long it took, ms. */
export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - started) };
}

export async function readiness(server: RunningServer): Promise<{ status: number; body: { failed?: Record<string, string> }; ms: number }> {
  const { value, ms } = await timed(async () => {
    const response = await fetch(`${server.origin}/healthz/ready`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.json() as { failed?: Record<string, string> } };
  });
  return { ...value, ms };
}

/** The admin generation whose clients, APIs and keys the server serves (its metric). */
export async function appliedGeneration(server: RunningServer): Promise<number | undefined> {
  const text = await (await fetch(`${server.metricsOrigin}/metrics`)).text();
  const match = /^latchkey_admin_cache_generation (\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Seconds since the server last confirmed its clients, APIs and keys are the newest (its metric). */
export async function adminCacheAge(server: RunningServer): Promise<number | undefined> {
  const text = await (await fetch(`${server.metricsOrigin}/metrics`)).text();
  const match = /^latchkey_admin_cache_age_seconds ([\d.e+-]+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The newest admin generation in the database (read directly, not through the server). */
export async function databaseGeneration(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ generation: string }>('SELECT generation FROM cache_generation WHERE id = 1');
    return Number(rows[0].generation);
  } finally {
    await client.end();
  }
}

/**
 * Starts a sign-in like a browser and sends the password: the first answer
 * that is not a redirect or the sign-in page, with the time of that request.
 */
export async function attemptSignIn(server: RunningServer, authorizationUrl: string, email: string, password: string): Promise<{ status: number; html: string; ms: number }> {
  const browser = new ScriptedBrowser(server.issuer);
  const page = await timed(() => browser.follow(authorizationUrl, { headers: { accept: 'text/html' } }));
  if (page.value.response.status !== 200 || !/name="password"/.test(page.value.html)) {
    return { status: page.value.response.status, html: page.value.html, ms: page.ms };
  }
  const { action, fields } = parseForm(page.value.html, /\/login$/);
  const posted = await timed(() => browser.follow(action, { method: 'POST', headers: { accept: 'text/html' }, form: { ...fields, email, password } }));
  return { status: posted.value.response.status, html: posted.value.html, ms: posted.ms };
}
