// The HTTP/OIDC helpers every suite shares: PKCE pairs, RFC 6749 client
// authentication, POST /token, and users made with the admin CLI. The support
// modules of the suites (test/security/_support-*.ts, test/e2e/support.ts)
// build on these instead of defining their own.
import { createHash, randomBytes } from 'node:crypto';

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** A fresh PKCE verifier and its S256 challenge. */
export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface ClientCredentials {
  client_id: string;
  client_secret?: string;
}

/** client_secret_basic, RFC 6749 §2.3.1: both parts form-urlencoded before base64. */
export function basicAuth(id: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

export interface TokenResponse {
  status: number;
  headers: Headers;
  response: Response;
  text: string;
  /** The JSON answer, or `{ unparsed: text }` when it is not JSON. */
  body: Record<string, any>;
  /** The same object as `body`. */
  json: Record<string, any>;
}

/**
 * POST `${issuer}/token` with these parameters (undefined ones left out) and,
 * when given, the client's credentials: Basic for a client with a secret,
 * client_id in the body for a public one. Nothing is thrown for an error answer.
 */
export async function tokenRequest(issuer: string, params: Record<string, string | undefined>, client?: ClientCredentials): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) form.set(name, value);
  if (client?.client_secret) headers.authorization = basicAuth(client.client_id, client.client_secret);
  else if (client) form.set('client_id', client.client_id);
  const response = await fetch(new URL('/token', issuer), { method: 'POST', headers, body: form, redirect: 'manual' });
  const text = await response.text();
  let body: Record<string, any>;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparsed: text };
  }
  return { status: response.status, headers: response.headers, response, text, body, json: body };
}

export interface AdminServer {
  admin<T = Record<string, any>>(args: string[], options?: { stdin?: string }): Promise<T>;
}

export interface CreatedUser {
  id: string;
  email: string;
  name: string;
  password: string;
}

/**
 * A user made with the admin CLI (`users create --password-stdin`): a random
 * email and a strong random password unless given.
 */
export async function createUser(
  server: AdminServer,
  options: { email?: string; name?: string; password?: string; emailVerified?: boolean } = {},
): Promise<CreatedUser> {
  const email = options.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const name = options.name ?? 'Test User';
  const password = options.password ?? `Tq-${randomBytes(12).toString('base64url')}`;
  const args = ['users', 'create', '--email', email, '--name', name, '--password-stdin'];
  if (options.emailVerified) args.push('--email-verified');
  const created = await server.admin<{ id: string }>(args, { stdin: password });
  return { id: created.id, email, name, password };
}
