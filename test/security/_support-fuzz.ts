// Mutated valid requests for C59: a seeded generator (the seed is printed, so
// a failure replays exactly) that takes a valid request and changes one to
// three things about it: a parameter dropped, repeated, renamed or replaced
// by garbage, the method, the path's case or shape, the body's encoding, a
// header. Requests are written raw (test/helpers/raw-http.ts), so undecodable
// percent-escapes and malformed bodies reach the server as sent.

export interface Template {
  method: string;
  path: string;
  query?: Array<[string, string]>;
  headers?: Record<string, string>;
  /** Form fields (application/x-www-form-urlencoded) unless `json` is set. */
  body?: Array<[string, string]>;
  json?: boolean;
}

export interface Mutated {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: string;
  /** What was changed, for the failure report. */
  mutations: string[];
}

/** mulberry32: small, fast, good enough to pick mutations, and replayable from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GARBAGE = [
  '', ' ', '0', '-1', '1e309', 'NaN', 'true', 'null', 'undefined', '[]', '{}', '{"a":', '%', '%zz', '%00', '\u0000', '\r\nX-Injected: 1',
  '../../../etc/passwd', '<script>alert(1)</script>', '"\'', 'İ ı ß ſ K Å', '\uffff', '😀'.repeat(50), 'a'.repeat(9000),
  'https://evil.example/cb', 'http://localhost', 'javascript:alert(1)', 'openid openid', 'S256', 'plain', 'none', 'RS256',
  '__proto__', 'constructor', 'eyJhbGciOiJub25lIn0.e30.', 'eyJ.eyJ.eyJ', `${'A'.repeat(43)}`, 'code id_token token',
];
const EXTRA_PARAMS = [
  '__proto__', 'constructor', 'prototype', 'claims', 'request', 'request_uri', 'max_age', 'prompt', 'acr_values', 'resource',
  'response_mode', 'id_token_hint', 'login_hint', 'ui_locales', 'registration', 'dpop_jkt', 'authorization_details', 'scope',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];
const CONTENT_TYPES = [
  'application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=utf-16',
  'application/xml', 'application/x-www-form-urlencoded; charset=latin1', '',
];
const HEADERS: Array<[string, () => string]> = [
  ['cookie', () => 'latchkey_session=garbage; latchkey_session.sig=garbage; _interaction=x'],
  ['authorization', () => 'Basic !!!not-base64'],
  ['authorization', () => `Basic ${Buffer.from(':').toString('base64')}`],
  ['authorization', () => 'Bearer '],
  ['authorization', () => 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
  ['dpop', () => 'eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.x'],
  ['origin', () => 'https://evil.example'],
  ['origin', () => 'null'],
  ['sec-fetch-site', () => 'cross-site'],
  ['accept', () => 'application/json'],
  ['accept', () => '*/*;q=garbage'],
  ['accept-language', () => 'x'.repeat(2000)],
  ['x-forwarded-for', () => 'not an address, ::ffff:999.1.1.1'],
  ['x-forwarded-proto', () => 'gopher'],
  ['if-none-match', () => '*'],
];

const encode = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

export function mutate(template: Template, random: () => number): Mutated {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  let method = template.method;
  let path = template.path;
  const query = [...(template.query ?? [])];
  const body = template.body ? [...template.body] : undefined;
  const headers: Record<string, string> = { accept: 'text/html', ...template.headers };
  let json = template.json ?? false;
  let rawQuery: string | undefined;
  let rawBody: string | undefined;
  const mutations: string[] = [];
  const params = () => (body && (method !== 'GET' || !query.length) ? body : query);

  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(random() * 12);
    const list = params();
    if (kind <= 2 && list.length) {
      const index = Math.floor(random() * list.length);
      const value = pick(GARBAGE);
      mutations.push(`${list[index][0]}=${JSON.stringify(value.slice(0, 40))}`);
      list[index] = [list[index][0], value];
    } else if (kind === 3 && list.length) {
      const [removed] = list.splice(Math.floor(random() * list.length), 1);
      mutations.push(`drop ${removed[0]}`);
    } else if (kind === 4 && list.length) {
      const item = pick(list);
      list.push([item[0], pick(GARBAGE)]);
      mutations.push(`repeat ${item[0]}`);
    } else if (kind === 5) {
      const name = pick(EXTRA_PARAMS);
      const suffix = pick(['', '[]', '[a]', '.x']);
      list.push([`${name}${suffix}`, pick(GARBAGE)]);
      mutations.push(`add ${name}${suffix}`);
    } else if (kind === 6) {
      method = pick(METHODS);
      mutations.push(`method ${method}`);
    } else if (kind === 7) {
      const shape = pick(['upper', 'mixed', 'slash', 'double-slash', 'dot-segment', 'extra-segment', 'encoded']);
      path = {
        upper: path.toUpperCase(),
        mixed: path.replace(/[a-z]/g, (c, index: number) => (index % 2 ? c.toUpperCase() : c)),
        slash: `${path}/`,
        'double-slash': path.replace('/', '//'),
        'dot-segment': `${path}/../${path.split('/').at(-1)}`,
        'extra-segment': `${path}/${encodeURIComponent(pick(GARBAGE)).slice(0, 200) || 'x'}`,
        encoded: path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
      }[shape]!;
      mutations.push(`path ${shape}`);
    } else if (kind === 8) {
      headers['content-type'] = pick(CONTENT_TYPES);
      mutations.push(`content-type ${headers['content-type']}`);
    } else if (kind === 9) {
      const [name, value] = pick(HEADERS);
      headers[name] = value();
      mutations.push(`header ${name}`);
    } else if (kind === 10) {
      json = !json;
      mutations.push(json ? 'body as JSON' : 'body as form');
    } else {
      const broken = pick(['%', '%zz', '&&&==', 'a=%E0%A4%A', '{"unterminated', '\u0000=\u0000', 'a=%ED%A0%80', `${'x='.repeat(2000)}`]);
      if (random() < 0.5) rawQuery = broken;
      else rawBody = broken;
      mutations.push(`raw ${JSON.stringify(broken.slice(0, 20))}`);
    }
  }

  const search = rawQuery ?? encode(query);
  let payload: string | undefined;
  if (rawBody !== undefined) payload = rawBody;
  else if (body) payload = json ? JSON.stringify(Object.fromEntries(body)) : encode(body);
  if (payload !== undefined && !('content-type' in headers)) headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  if (method === 'GET' || method === 'HEAD') payload = undefined;
  // Node refuses to send some characters in a request target; the server never sees those.
  const target = `${path}${search ? `?${search}` : ''}`.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  return { method, target, headers, body: payload, mutations };
}
