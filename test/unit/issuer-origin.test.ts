// The issuer pin on plain request objects: which Host, X-Forwarded-* and
// request targets pass, and what the request looks like afterwards.
import test from 'ava';
import type { IncomingMessage } from 'node:http';
import { issuerPin, lastForwardedValue } from '../../server/http/issuer-origin.ts';

const request = (url: string, headers: Record<string, string | string[]>) => ({ url, headers: { ...headers } }) as unknown as IncomingMessage;

test('lastForwardedValue takes the last entry of a list or of repeated headers', (t) => {
  t.is(lastForwardedValue('a, b ,c'), 'c');
  t.is(lastForwardedValue(['a, b', 'c, d']), 'd');
  t.is(lastForwardedValue(' '), undefined);
  t.is(lastForwardedValue(undefined), undefined);
});

test('direct: the issuer host passes (any case, default port spelled out); others get 421; forwarded headers are dropped', (t) => {
  const pin = issuerPin({ issuer: 'https://id.example.com', trustProxy: false });
  for (const host of ['id.example.com', 'ID.Example.COM', 'id.example.com:443']) {
    const req = request('/token', { host, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', 'x-forwarded-for': '1.2.3.4' });
    t.is(pin(req), undefined, host);
    t.deepEqual(req.headers, { host: 'id.example.com' }, `${host}: pinned, X-Forwarded-* gone`);
  }
  for (const host of ['evil.example', 'id.example.com:8443', 'id.example.com.evil.example', 'user@id.example.com', '']) {
    t.is(pin(request('/token', { host }))?.status, 421, `Host ${JSON.stringify(host)}`);
  }
});

test('behind the proxy: the last X-Forwarded-Host/-Proto/-For entries count and are all that is left', (t) => {
  const pin = issuerPin({ issuer: 'https://id.example.com', trustProxy: true });
  const req = request('/auth', {
    host: '10.0.0.7:3000', 'x-forwarded-host': 'evil.example, id.example.com', 'x-forwarded-proto': 'http, https', 'x-forwarded-for': '6.6.6.6, 198.51.100.7',
  });
  t.is(pin(req), undefined);
  t.deepEqual(req.headers, { host: 'id.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' });
  t.is(pin(request('/auth', { host: 'id.example.com', 'x-forwarded-host': 'id.example.com, evil.example', 'x-forwarded-proto': 'https' }))?.status, 421);
  t.is(pin(request('/auth', { host: 'id.example.com', 'x-forwarded-proto': 'https, http' }))?.status, 400);
  t.is(pin(request('/auth', { host: 'id.example.com' }))?.status, 400, 'no X-Forwarded-Proto: not through the TLS proxy');
});

test('an http issuer behind a proxy takes requests without X-Forwarded-Proto', (t) => {
  const pin = issuerPin({ issuer: 'http://localhost:3000', trustProxy: true });
  const req = request('/auth', { host: 'localhost:3000' });
  t.is(pin(req), undefined);
  t.is(req.headers['x-forwarded-proto'], 'http');
});

test('absolute-form targets: the issuer\'s become paths, others are refused; health checks pass whatever the Host', (t) => {
  const pin = issuerPin({ issuer: 'https://id.example.com', trustProxy: true });
  const own = request('https://id.example.com/token?x=1', { host: 'id.example.com', 'x-forwarded-proto': 'https' });
  t.is(pin(own), undefined);
  t.is(own.url, '/token?x=1');
  t.is(pin(request('http://evil.example/token', { host: 'id.example.com', 'x-forwarded-proto': 'https' }))?.status, 421);
  t.is(pin(request('*', { host: 'id.example.com', 'x-forwarded-proto': 'https' }))?.status, 400);
  for (const url of ['/healthz', '/healthz/ready', '/healthz/live', '/healthz?verbose=1']) t.is(pin(request(url, { host: '10.0.0.7:3000' })), undefined, url);
  t.is(pin(request('/healthzz', { host: '10.0.0.7:3000' }))?.status, 421);
});
