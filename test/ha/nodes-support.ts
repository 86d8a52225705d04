// Shared by the several-nodes drills: a request to one node directly (its own
// port, with the issuer's Host, as haproxy sends it), client_credentials set-up
// and each node's published key ids.
import { request } from 'node:http';
import * as jose from 'jose';
import { basicAuth, type ClientCredentials } from '../helpers/oidc-http.ts';
import type { LatchkeyNodes } from '../helpers/latchkey-nodes.ts';

export interface DirectAnswer {
  status: number;
  body: Record<string, any>;
}

/** One request to the node on `port`, bypassing haproxy; Host is the issuer's. */
export function direct(nodes: LatchkeyNodes, port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<DirectAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers: { host: new URL(nodes.issuer).host, ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => {
        let parsed: Record<string, any>;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = { unparsed: text };
        }
        resolve({ status: response.statusCode!, body: parsed });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

export const API = 'https://ledger.internal';

/** The API the machine clients get tokens for, made with the CLI. */
export const createApi = (nodes: LatchkeyNodes): Promise<unknown> =>
  nodes.admin(['apis', 'create', '--identifier', API, '--scope', 'ledger:read', '--ttl', '600']);

/** A client_credentials client for API, made with the CLI. */
export const machineClient = (nodes: LatchkeyNodes, name: string): Promise<Required<ClientCredentials>> =>
  nodes.admin(['clients', 'create', '--name', name, '--grant', 'client_credentials', '--api', API, '--scope', 'ledger:read']);

export const clientCredentialsForm = 'grant_type=client_credentials&scope=ledger%3Aread';

/** A client_credentials token request straight to one node. */
export function directToken(nodes: LatchkeyNodes, port: number, client: Required<ClientCredentials>): Promise<DirectAnswer> {
  return direct(nodes, port, 'POST', '/token', {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basicAuth(client.client_id, client.client_secret),
  }, clientCredentialsForm);
}

/** The key ids one node publishes at /jwks. */
export async function publishedKids(nodes: LatchkeyNodes, port: number): Promise<string[]> {
  const { status, body } = await direct(nodes, port, 'GET', '/jwks');
  if (status !== 200) throw new Error(`/jwks answered ${status}`);
  return (body.keys as { kid: string }[]).map((key) => key.kid);
}

export const kidOf = (token: string): string | undefined => jose.decodeProtectedHeader(token).kid;
