// C42: every secret comparison is constant-time (ASVS 5.0 V11.2, RFC 9700
// §4.8). Two parts, no services needed:
//  1. the helper: `safeEqual` (server/crypto/secrets.ts) gives the right
//     answers and really runs crypto.timingSafeEqual over the whole values
//     (observed by wrapping node:crypto's export, which the server module's
//     live ESM binding then sees), even when the lengths differ; and the
//     server's secret checks (client secret hashes, CSRF tokens) go through it;
//  2. a review of server/ as an assertion: no ===, !==, ==, != or
//     Buffer#equals / Buffer.compare between two non-literal values where one
//     names a secret (secret, password, token, hash, csrf, verifier, digest,
//     hmac, signature, otp, recovery, credential). Comparing with a literal
//     (null, undefined, '', a constant such as 'none') or a typeof/length is
//     not a secret comparison. Passwords are checked by argon2.verify.
// A wall-clock timing test is deliberately absent: on a shared machine it
// would be flaky, and the property is structural.
import test from 'ava';
import crypto from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { csrfToken, verifyCsrf } from '../../server/http/csrf.ts';
import { deriveKey, hashSecret, randomSecret, safeEqual, verifySecret } from '../../server/crypto/secrets.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'server');

// ---------------------------------------------------------------- part 1: the helper

test('C42 safeEqual answers like string equality', (t) => {
  const secret = randomSecret();
  t.true(safeEqual(secret, secret));
  t.true(safeEqual(secret, `${secret}`.slice(0)));
  t.true(safeEqual('', ''));
  t.true(safeEqual('pässwörd ✓', 'pässwörd ✓'));
  t.false(safeEqual(secret, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), 'last character differs');
  t.false(safeEqual(secret, `${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`), 'first character differs');
  t.false(safeEqual(secret, secret.slice(0, -1)), 'a prefix is not equal');
  t.false(safeEqual(secret, `${secret}x`), 'a longer value is not equal');
  t.false(safeEqual('', secret));
  t.false(safeEqual('a', 'a\0'));
  t.false(safeEqual('\u00e9', 'e\u0301'), 'compares bytes: no Unicode normalisation');
  t.false(safeEqual('abc', 'ABC'));
});

/** Runs `fn` with node:crypto's timingSafeEqual wrapped; returns the calls it saw. */
function observeTimingSafeEqual(fn: () => void): [Buffer, Buffer][] {
  const original = crypto.timingSafeEqual;
  const calls: [Buffer, Buffer][] = [];
  crypto.timingSafeEqual = ((a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
    calls.push([Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)]);
    return original(a, b);
  }) as typeof crypto.timingSafeEqual;
  syncBuiltinESMExports(); // the server module's `import { timingSafeEqual }` binding now sees the wrapper
  try {
    fn();
  } finally {
    crypto.timingSafeEqual = original;
    syncBuiltinESMExports();
  }
  return calls;
}

test.serial('C42 safeEqual compares the whole values with crypto.timingSafeEqual', (t) => {
  const a = randomSecret();
  const b = `${a.slice(0, -1)}${a.endsWith('A') ? 'B' : 'A'}`;
  let result = true;
  const calls = observeTimingSafeEqual(() => { result = safeEqual(a, b); });
  t.false(result);
  t.is(calls.length, 1, 'exactly one timingSafeEqual call');
  t.deepEqual(calls[0], [Buffer.from(a), Buffer.from(b)], 'over the full values');

  const equal = observeTimingSafeEqual(() => { result = safeEqual(a, a); });
  t.true(result);
  t.is(equal.length, 1);
});

test.serial('C42 safeEqual with different lengths still runs a constant-time compare and does not throw', (t) => {
  let result = true;
  const calls = observeTimingSafeEqual(() => { result = safeEqual(randomSecret(), 'short'); });
  t.false(result);
  t.is(calls.length, 1, 'the early exit costs a compare too');
  t.notThrows(() => safeEqual('a', 'ab'));
});

test.serial('C42 client secret verification goes through timingSafeEqual', (t) => {
  const key = deriveKey(Buffer.alloc(32, 7), 'client-secret-hash');
  const secret = randomSecret();
  const stored = hashSecret(key, secret);
  let ok = false;
  const right = observeTimingSafeEqual(() => { ok = verifySecret(key, secret, stored); });
  t.true(ok);
  t.is(right.length, 1);
  t.deepEqual(right[0], [Buffer.from(stored), Buffer.from(stored)]);
  const wrong = observeTimingSafeEqual(() => { ok = verifySecret(key, `${secret}x`, stored); });
  t.false(ok);
  t.is(wrong.length, 1);
});

test.serial('C42 CSRF token verification goes through timingSafeEqual', (t) => {
  const key = deriveKey(Buffer.alloc(32, 9), 'csrf');
  const token = csrfToken(key, 'interaction-uid');
  let ok = false;
  const right = observeTimingSafeEqual(() => { ok = verifyCsrf(key, 'interaction-uid', token); });
  t.true(ok);
  t.is(right.length, 1);
  const wrong = observeTimingSafeEqual(() => { ok = verifyCsrf(key, 'interaction-uid', token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))); });
  t.false(ok);
  t.is(wrong.length, 1);
});

// ---------------------------------------------------------------- part 2: the source review

const SENSITIVE = /secret|password|passwd|token|hash|csrf|verifier|digest|hmac|signature|otp|recovery|credential/i;
const LITERAL = /^(null|undefined|true|false|-?\d[\d_.]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`[^`$]*`)$/;
const CLOSERS: Record<string, string> = { ')': '(', ']': '[' };

/** The operand ending at `end` (exclusive), scanning left over member chains, calls and index expressions. */
function leftOperand(code: string, end: number): string {
  let i = end;
  while (i > 0 && /\s/.test(code[i - 1])) i--;
  const stop = i;
  while (i > 0) {
    const c = code[i - 1];
    if (CLOSERS[c]) {
      let depth = 0;
      for (i--; i >= 0; i--) {
        if (code[i] === c) depth++;
        else if (code[i] === CLOSERS[c] && --depth === 0) break;
      }
    } else if (/[\w$.?!]/.test(c)) {
      i--;
    } else if ((c === "'" || c === '"') && i === stop) {
      const open = code.lastIndexOf(c, i - 2);
      i = open;
      break;
    } else break;
  }
  const operand = code.slice(i, stop).replace(/^!+/, '');
  const before = code.slice(Math.max(0, i - 7), i);
  return /typeof\s*$/.test(before) ? `typeof ${operand}` : operand;
}

/** The operand starting at `start`, scanning right. */
function rightOperand(code: string, start: number): string {
  let i = start;
  while (i < code.length && /\s/.test(code[i])) i++;
  const begin = i;
  if (code.startsWith('typeof', i)) return 'typeof';
  if (code[i] === "'" || code[i] === '"') {
    const close = code.indexOf(code[i], i + 1);
    return code.slice(begin, close + 1);
  }
  const openers: Record<string, string> = { '(': ')', '[': ']' };
  while (i < code.length) {
    const c = code[i];
    if (openers[c]) {
      let depth = 0;
      for (; i < code.length; i++) {
        if (code[i] === c) depth++;
        else if (code[i] === openers[c] && --depth === 0) break;
      }
      i++;
    } else if (/[\w$.?!]/.test(c) && !(c === '?' && code[i + 1] !== '.')) {
      i++;
    } else break;
  }
  return code.slice(begin, i);
}

/** The name an operand is about: the last member of a chain, or the callee of a call. */
function subject(operand: string): string {
  let text = operand.trim();
  while (/[)\]]$/.test(text)) {
    const close = text.at(-1)!;
    const open = close === ')' ? '(' : '[';
    let depth = 0;
    let i = text.length - 1;
    for (; i >= 0; i--) {
      if (text[i] === close) depth++;
      else if (text[i] === open && --depth === 0) break;
    }
    const before = text.slice(0, Math.max(0, i)).trim();
    // `(expr)` is about expr; `callee(args)` and `object[index]` are about what precedes them.
    text = before === '' ? text.slice(i + 1, -1).trim() : before;
  }
  return text.split(/[.?!]+/).filter(Boolean).at(-1) ?? '';
}

const exempt = (operand: string) => LITERAL.test(operand.trim()) || operand.startsWith('typeof') || operand === '';
const names = (operand: string) => SENSITIVE.test(subject(operand));

interface Finding { file: string; line: number; code: string; left: string; right: string }

/** Secret-looking comparisons in one file's source. */
function review(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const lines = source.split('\n');
  lines.forEach((raw, index) => {
    // Drop // comments (not inside strings: good enough for this codebase, and over-reporting is safe).
    const code = raw.replace(/(^|[^:'"`])\/\/.*$/, '$1');
    if (/^\s*(\*|\/\*)/.test(code)) return;
    for (const match of code.matchAll(/(?<![=!<>])(===|!==|==|!=)(?!=)/g)) {
      const left = leftOperand(code, match.index);
      const right = rightOperand(code, match.index + match[0].length);
      if (exempt(left) || exempt(right)) continue;
      if (names(left) || names(right)) findings.push({ file, line: index + 1, code: raw.trim(), left, right });
    }
    for (const match of code.matchAll(/([\w$.?!()]+)\.equals\(([^)]*)\)|Buffer\.compare\(([^,]+),([^)]+)\)/g)) {
      const [left, right] = match[1] !== undefined ? [match[1], match[2]] : [match[3], match[4]];
      if (names(left) || names(right) || SENSITIVE.test(left) || SENSITIVE.test(right)) {
        findings.push({ file, line: index + 1, code: raw.trim(), left, right });
      }
    }
  });
  return findings;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/**
 * Reviewed exceptions: file, a fragment of the line, and why it is not a
 * secret comparison. Every entry must still match a finding (stale entries
 * fail the test), so the list cannot silently grow permissive.
 */
const ALLOW_LIST: { file: string; fragment: string; reason: string }[] = [
  {
    file: 'server/oidc/client-metadata.ts',
    fragment: '(value === undefined) !== (metadata[PROPERTY.previousSecretExpiresAt] === undefined)',
    reason: 'whether the previous secret hash and its expiry are both given or both absent: two booleans, no secret value compared',
  },
];

test('C42 the review itself catches secret comparisons and ignores the harmless ones', (t) => {
  const flagged = [
    'if (presented === client.secret) return true;',
    'return hash !== stored;',
    'const ok = body.csrf == expectedCsrf;',
    'if (hashSecret(key, presented) === record.secretHash) {}',
    'if (req.password != account.password) fail();',
    'return code_verifier === challenge;',
    'if (provided.equals(expectedHash)) {}',
    'return Buffer.compare(tokenBytes, other) === 0;',
    'if (a === b.refreshToken) {}',
    'ok = (token) === expected;',
  ];
  for (const line of flagged) t.is(review('sample.ts', line).length, 1, `should flag: ${line}`);
  const harmless = [
    "return typeof token === 'string' && token !== '' && safeEqual(a, token);",
    'if (left.length !== right.length) {}',
    'const own = token.clientId === caller.clientId;',
    'const set = client.previousSecretHash !== null;',
    "if (client.tokenEndpointAuthMethod === 'none') {}",
    "const explicit = options.auth !== 'client_secret_basic';",
    'const x = options.secret === undefined ? 1 : 2;',
    '// if (secret === other) in a comment',
  ];
  for (const line of harmless) t.deepEqual(review('sample.ts', line), [], `should not flag: ${line}`);
});

test('C42 server/ compares no secret with ===, !==, ==, !=, Buffer#equals or Buffer.compare', (t) => {
  const files = sourceFiles(SERVER);
  t.true(files.length > 20, `reviewed ${files.length} files`);
  const findings = files.flatMap((path) => review(relative(ROOT, path), readFileSync(path, 'utf8')));
  const unexplained = findings.filter((f) => !ALLOW_LIST.some((a) => a.file === f.file && f.code.includes(a.fragment)));
  t.deepEqual(unexplained.map((f) => `${f.file}:${f.line}: ${f.code}`), [], 'compare secrets with safeEqual (server/crypto/secrets.ts)');
  for (const entry of ALLOW_LIST) {
    t.true(findings.some((f) => f.file === entry.file && f.code.includes(entry.fragment)), `stale allow-list entry ${entry.file}: ${entry.fragment}`);
  }
});

test('C42 the secret checks use the constant-time primitives', (t) => {
  const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
  const secrets = read('server/crypto/secrets.ts');
  const safeEqualBody = /export function safeEqual[\s\S]*?\n}/.exec(secrets)?.[0] ?? '';
  t.regex(safeEqualBody, /timingSafeEqual\(left, right\)/, 'safeEqual ends in timingSafeEqual');
  t.regex(secrets, /import \{[^}]*\btimingSafeEqual\b[^}]*\} from 'node:crypto'/, 'timingSafeEqual is node:crypto\'s');
  t.regex(secrets, /export function verifySecret[\s\S]*?safeEqual\(/, 'verifySecret uses safeEqual');
  t.regex(read('server/oidc/internals.ts'), /verifySecret\(/, 'client secrets are checked with verifySecret');
  t.regex(read('server/http/csrf.ts'), /safeEqual\(csrfToken\(/, 'CSRF tokens are checked with safeEqual');
  t.regex(read('server/accounts/password-hashing.ts'), /argon2\.verify\(/, 'passwords are checked with argon2.verify');
  // No home-made secret comparison helpers elsewhere.
  const others = sourceFiles(SERVER)
    .filter((path) => !path.endsWith(join('crypto', 'secrets.ts')))
    .filter((path) => /\btimingSafeEqual\b/.test(readFileSync(path, 'utf8')))
    .map((path) => relative(ROOT, path));
  t.deepEqual(others, [], 'timingSafeEqual is wrapped in one place (safeEqual)');
});
