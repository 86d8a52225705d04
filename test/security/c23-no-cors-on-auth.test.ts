// needs: postgres redis
// C23: no CORS on the authorization endpoint: it is a top-level navigation
// target, so a script on another origin must never be able to read its
// responses (codes, errors, whether the user is signed in).
// Requests with `Origin: https://evil.example` (and `null`) get no
// Access-Control-Allow-* headers: plain, preflight, success, error, signed in.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { ScriptedBrowser } from '../helpers/browser.ts';
import {
  authorizationUrl,
  codeFlowParams,
  EVIL,
  pkce,
  rawRequest,
  redirectTarget,
  signedInBrowser,
  startAuthzFixture,
  type AuthzFixture,
} from './_support-authz.ts';

let fixture: AuthzFixture;
let browser: ScriptedBrowser;

test.before(async () => {
  fixture = await startAuthzFixture();
  browser = await signedInBrowser(fixture);
});
test.after.always(async () => {
  await fixture?.stop();
});

const ORIGINS = [EVIL, 'null'];

function assertNoCors(t: ExecutionContext, response: Response, label: string) {
  const cors = [...response.headers].filter(([name]) => name.startsWith('access-control-'));
  t.deepEqual(cors, [], `${label}: CORS headers ${JSON.stringify(cors)}`);
}

test('C23 control: a CORS-enabled public endpoint does answer Origin (so the check below can see the header)', async (t) => {
  const response = await fetch(new URL('/.well-known/openid-configuration', fixture.issuer), { headers: { origin: EVIL } });
  t.is(response.status, 200);
  t.truthy(response.headers.get('access-control-allow-origin'), 'discovery is readable cross-origin');
});

test('C23 GET /auth with a foreign Origin gets no CORS headers', async (t) => {
  for (const origin of ORIGINS) {
    const cases: [string, string][] = [
      ['valid request (sign-in starts)', authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge))],
      ['error redirect (no PKCE)', authorizationUrl(fixture.issuer, codeFlowParams(fixture, '', { code_challenge: undefined, code_challenge_method: undefined }))],
      ['error page (unknown client)', authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { client_id: 'no-such-client' }))],
      ['error page (foreign redirect_uri)', authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { redirect_uri: `${EVIL}/callback` }))],
    ];
    for (const [label, url] of cases) {
      assertNoCors(t, await rawRequest(url, { headers: { origin, 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site' } }), `${label}, Origin ${origin}`);
    }
  }
});

test('C23 a signed-in user\'s code response is not readable cross-origin', async (t) => {
  for (const origin of ORIGINS) {
    const params = codeFlowParams(fixture, pkce().challenge, { prompt: 'none' });
    const response = await browser.request(authorizationUrl(fixture.issuer, params), { headers: { origin, 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site' } });
    // Whatever the server does with the request, it must not hand the response to the other origin.
    assertNoCors(t, response, `prompt=none, Origin ${origin}`);
    const formPost = await browser.request(authorizationUrl(fixture.issuer, { ...params, state: 'fp', response_mode: 'form_post' }), { headers: { origin } });
    assertNoCors(t, formPost, `form_post, Origin ${origin}`);
  }
  // Control: the same browser does get a code (a readable response would leak it).
  const control = redirectTarget(t, await browser.request(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge, { prompt: 'none' }))), fixture.issuer, 'control');
  t.truthy(control?.searchParams.get('code'));
});

test('C23 a CORS preflight to /auth is not approved', async (t) => {
  for (const origin of ORIGINS) {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge)), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
        redirect: 'manual',
      });
      assertNoCors(t, response, `OPTIONS (${method}), Origin ${origin}`);
    }
  }
});

test('C23 POST /auth with a foreign Origin gets no CORS headers', async (t) => {
  for (const origin of ORIGINS) {
    const params = codeFlowParams(fixture, pkce().challenge);
    const body = new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const response = await rawRequest(new URL('/auth', fixture.issuer).toString(), {
      method: 'POST',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    assertNoCors(t, response, `POST, Origin ${origin}`);
  }
});

test('C23 the sign-in pages /auth leads to get no CORS headers either', async (t) => {
  const start = await rawRequest(authorizationUrl(fixture.issuer, codeFlowParams(fixture, pkce().challenge)));
  const interaction = redirectTarget(t, start, fixture.issuer, 'start');
  if (!interaction) return;
  for (const origin of ORIGINS) {
    assertNoCors(t, await rawRequest(interaction.toString(), { headers: { origin } }), `GET ${interaction.pathname}, Origin ${origin}`);
    const preflight = await fetch(interaction, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' }, redirect: 'manual' });
    assertNoCors(t, preflight, `OPTIONS ${interaction.pathname}, Origin ${origin}`);
  }
});
