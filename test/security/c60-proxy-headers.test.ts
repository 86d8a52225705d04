// needs: postgres redis
// C60: with TRUST_PROXY, only the values the proxy itself added count: the
// last X-Forwarded-Proto and X-Forwarded-For entries (a client may send its
// own first entries, which a proxy appends to). A request to an https issuer
// that did not come through the proxy over https gets a clear 400, never a
// 500 (Koa reads the first proto; secure cookies then fail). Health checks
// still answer a load balancer probing the process over plain http.
import test from 'ava';
import { rawHttp } from '../helpers/raw-http.ts';
import { startServer, type RunningServer } from '../helpers/server-process.ts';

let server: RunningServer;

test.before(async () => {
  server = await startServer({ https: true, env: { LOG_LEVEL: 'info' } });
});
test.after.always(() => server?.stop());

const PAGES = ['/auth?client_id=unknown&response_type=code&scope=openid', '/session/end', '/account', '/account/reauth', '/account/totp'];
const HTML = { accept: 'text/html' };
/** What the server answers a request that did not come through the TLS proxy. */
const NOT_THROUGH_PROXY = /over https through its proxy/;

test('C60: without X-Forwarded-Proto, pages of an https issuer answer 400 with a reason, never 500', async (t) => {
  for (const target of PAGES) {
    const response = await rawHttp(server.port, { target, headers: HTML });
    t.is(response.status, 400, `${target}: ${response.body.slice(0, 200)}`);
    t.regex(response.body, NOT_THROUGH_PROXY, `${target}: the answer says https is required`);
    t.is(response.headers['set-cookie'], undefined, `${target}: no cookie set over plain http`);
  }
});

test('C60: a client-chosen X-Forwarded-Proto prefix does not count: the proxy-added last value does', async (t) => {
  for (const target of PAGES) {
    // The client said http; the proxy (TLS) appended https: a real https request.
    const appended = await rawHttp(server.port, { target, headers: { ...HTML, 'x-forwarded-proto': 'http, https' } });
    t.true(appended.status < 500, `${target} with "http, https": ${appended.status} ${appended.body.slice(0, 200)}`);
    t.notRegex(appended.body, NOT_THROUGH_PROXY, `${target} with "http, https" is an https request`);
    // The client claimed https over a plain-http hop: not through TLS.
    const spoofed = await rawHttp(server.port, { target, headers: { ...HTML, 'x-forwarded-proto': 'https, http' } });
    t.is(spoofed.status, 400, `${target} with "https, http": ${spoofed.status}`);
    t.regex(spoofed.body, NOT_THROUGH_PROXY, `${target} with "https, http" is refused as plain http`);
    const repeated = await rawHttp(server.port, { target, headers: { ...HTML, 'x-forwarded-proto': ['https', 'http'] } });
    t.is(repeated.status, 400, `${target} with X-Forwarded-Proto sent twice, last http: ${repeated.status}`);
    t.regex(repeated.body, NOT_THROUGH_PROXY, `${target} with X-Forwarded-Proto sent twice is refused as plain http`);
  }
  // The account page behind a real https hop sets its cookies Secure (it signs the browser in).
  const account = await rawHttp(server.port, { target: '/account', headers: { ...HTML, 'x-forwarded-proto': 'http, https' } });
  t.is(account.status, 303);
  for (const cookie of [account.headers['set-cookie'] ?? []].flat()) t.regex(cookie, /;\s*secure/i, `cookie ${cookie.split('=')[0]} is Secure`);
});

test('C60: the client IP is the proxy-added X-Forwarded-For entry, in oidc-provider\'s audit lines too', async (t) => {
  const chosen = '203.0.113.66';
  const real = '198.51.100.7';
  const response = await rawHttp(server.port, {
    target: '/auth?client_id=c60-unknown-client&response_type=code&scope=openid',
    headers: { ...HTML, 'x-forwarded-proto': 'https', 'x-forwarded-for': `${chosen}, ${real}` },
  });
  t.is(response.status, 400);
  const requestId = response.headers['x-request-id'];
  t.truthy(requestId, 'the answer names its request id');
  // The request's own log lines (tests in this file run concurrently).
  let lines: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 50 && lines.length === 0; i++) {
    lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((entry) => entry.request_id === requestId);
    if (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // oidc-provider's refusal is an audit event (token.refused at the authorization endpoint), on stdout as a JSON line.
  const refusal = lines.find((entry) => entry.audit === true && (entry.event as { type?: string } | undefined)?.type === 'token.refused');
  t.truthy(refusal, 'the refusal is logged with the request id');
  t.is((refusal?.event as { ip?: string } | undefined)?.ip, real, 'the logged IP is the one the proxy added');
  t.false(server.output().includes(chosen), 'the client-chosen address appears nowhere');
});

test('C60: health checks answer over plain http without proxy headers', async (t) => {
  const response = await rawHttp(server.port, { target: '/healthz' });
  t.is(response.status, 200);
});
