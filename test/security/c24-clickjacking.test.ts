// needs: postgres redis
// C24 clickjacking defence: every hosted page forbids framing with
// `frame-ancestors 'none'` in its Content-Security-Policy.
// Covers the login, consent, logout and error pages that exist today; MFA and
// account pages do not exist yet (issue 3 adds them and extends this suite).
import test from 'ava';
import { startServer, type RunningServer } from '../helpers/server-process.ts';
import { createUser, createWebClient } from './_support-pages.ts';
import { collectHostedPages, parseCsp, type HostedPage } from './_support-page-checks.ts';

let server: RunningServer;
let pages: HostedPage[];

test.before(async () => {
  server = await startServer();
  const client = await createWebClient(server);
  const user = await createUser(server);
  pages = await collectHostedPages(server, client, user);
});
test.after.always(async () => {
  await server?.stop();
});

/** True when some enforced policy has frame-ancestors with exactly 'none'. */
function forbidsFraming(page: HostedPage): boolean {
  return parseCsp(page.headers.get('content-security-policy'))
    .some((policy) => policy.get('frame-ancestors')?.join(' ') === "'none'");
}

test("C24 every hosted page sends CSP frame-ancestors 'none'", (t) => {
  const names = pages.map((page) => page.name);
  // The pages this row is about must all have been reached.
  for (const required of ['login', 'login after a failed attempt', 'consent', 'logout', 'signed out', 'authorization error (unknown client)', 'interaction error (unknown interaction)', 'form refused (CSRF)']) {
    t.true(names.includes(required), `page "${required}" was not collected`);
  }
  for (const page of pages) {
    t.regex(page.headers.get('content-type') ?? '', /^text\/html/, `${page.name} is an HTML page`);
    t.true(forbidsFraming(page), `${page.name} (${page.status} ${page.url}): CSP is ${page.headers.get('content-security-policy')}`);
  }
});

test('C24 error pages keep the framing ban (status codes 400 and 403 included)', (t) => {
  const errors = pages.filter((page) => page.status >= 400);
  t.deepEqual(errors.map((page) => page.status).sort(), [400, 400, 401, 403], errors.map((p) => `${p.name}: ${p.status}`).join(', '));
  for (const page of errors) t.true(forbidsFraming(page), `${page.name} (${page.status})`);
});
