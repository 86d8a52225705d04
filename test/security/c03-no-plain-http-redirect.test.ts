// needs: postgres redis
// C03: plain-http redirect URIs are refused except on loopback (RFC 9700
// §4.1.3 / §2.6, RFC 8252 §7.3). Registration goes through the admin CLI:
// a refusal is a non-zero exit, one clear line on stderr, nothing on stdout,
// and no client stored; loopback http URIs are accepted and usable.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { CliResult } from '../helpers/server-process.ts';
import { assertErrorPage, authorizationUrl, pkce, rawRequest, redirectTarget, startAuthzFixture, type AuthzFixture } from './_support-authz.ts';

let fixture: AuthzFixture;

test.before(async () => {
  fixture = await startAuthzFixture({ user: false });
});
test.after.always(async () => {
  await fixture?.stop();
});

const createArgs = (name: string, option: '--redirect-uri' | '--post-logout-redirect-uri', uri: string) => [
  'clients', 'create', '--name', name, '--grant', 'authorization_code',
  ...(option === '--redirect-uri' ? ['--redirect-uri', uri] : ['--redirect-uri', 'https://ok.example/callback', option, uri]),
];

async function clientNames(): Promise<string[]> {
  const { clients } = await fixture.server.admin<{ clients: { name: string }[] }>(['clients', 'list']);
  return clients.map((client) => client.name);
}

/** Refused: exit non-zero, nothing on stdout, exactly one "latchkey: ..." line on stderr naming the URI. */
function assertRefused(t: ExecutionContext, run: CliResult, uri: string, message: RegExp, label: string) {
  t.not(run.code, 0, `${label}: exit code`);
  t.is(run.stdout, '', `${label}: nothing on stdout`);
  t.regex(run.stderr, /^latchkey: [^\n]+\n$/, `${label}: one line on stderr: ${JSON.stringify(run.stderr)}`);
  t.true(run.stderr.includes(uri), `${label}: the message names the URI: ${run.stderr}`);
  t.regex(run.stderr, message, `${label}: the message says why`);
}

test('C03 the CLI refuses http://example.com/cb as a redirect URI with a clear one-line message', async (t) => {
  for (const json of [false, true]) {
    const name = `plain-http-${json ? 'json' : 'text'}`;
    const run = await fixture.server.cli([...createArgs(name, '--redirect-uri', 'http://example.com/cb'), ...(json ? ['--json'] : [])]);
    assertRefused(t, run, 'http://example.com/cb', /https/, json ? '--json' : 'text');
    t.notRegex(run.stderr, /\bat .+:\d+:\d+|Error:/, 'no stack trace');
  }
  t.false((await clientNames()).some((name) => name.startsWith('plain-http-')), 'no client was stored');
});

test('C03 the CLI refuses other non-loopback plain-http redirect URIs', async (t) => {
  const refused: [string, string][] = [
    ['upper-case scheme and host', 'HTTP://EXAMPLE.COM/cb'],
    ['http with a port', 'http://example.com:8080/cb'],
    ['a host starting with "localhost"', 'http://localhost.evil.example/cb'],
    ['a host starting with "127.0.0.1"', 'http://127.0.0.1.nip.io/cb'],
    ['localhost with a trailing dot', 'http://localhost./cb'],
    ['the unspecified address', 'http://0.0.0.0/cb'],
    ['a private address', 'http://192.168.1.10/cb'],
    ['a malformed authority', 'http:/example.com/cb'],
  ];
  for (const [label, uri] of refused) {
    const run = await fixture.server.cli([...createArgs(`refused ${label}`, '--redirect-uri', uri), '--json']);
    assertRefused(t, run, uri, /https/, label);
  }
  // "localhost" as userinfo hides the real host.
  const userinfo = await fixture.server.cli([...createArgs('refused userinfo', '--redirect-uri', 'http://localhost@evil.example/cb'), '--json']);
  assertRefused(t, userinfo, 'http://localhost@evil.example/cb', /user name|password|https/, 'localhost as userinfo');
  t.false((await clientNames()).some((name) => name.startsWith('refused ')), 'no client was stored');
});

test('C03 the CLI refuses a plain-http post-logout redirect URI', async (t) => {
  const run = await fixture.server.cli([...createArgs('plain-http-logout', '--post-logout-redirect-uri', 'http://example.com/logged-out'), '--json']);
  assertRefused(t, run, 'http://example.com/logged-out', /https/, 'post-logout');
  t.false((await clientNames()).includes('plain-http-logout'), 'no client was stored');
});

test('C03 loopback http redirect URIs are accepted and usable', async (t) => {
  const loopback = ['http://127.0.0.1:8080/cb', 'http://localhost:3000/cb', 'http://[::1]:9000/cb'];
  const client = await fixture.server.admin<{ client_id: string; redirect_uris: string[] }>([
    'clients', 'create', '--name', 'Native App', '--public', '--grant', 'authorization_code',
    ...loopback.flatMap((uri) => ['--redirect-uri', uri]),
  ]);
  t.deepEqual(client.redirect_uris, loopback);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  for (const uri of loopback) {
    const params = { client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: uri, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's' };
    const target = redirectTarget(t, await rawRequest(authorizationUrl(fixture.issuer, params)), fixture.issuer, uri);
    t.regex(target?.pathname ?? '', /^\/interaction\//, `${uri}: the sign-in starts`);
  }
  // The loopback exception is not a wildcard: another path on the same host is not registered.
  const other = { client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: 'http://127.0.0.1:8080/other', code_challenge: pkce().challenge, code_challenge_method: 'S256' };
  await assertErrorPage(t, await rawRequest(authorizationUrl(fixture.issuer, other)), 'unregistered loopback path');
});
