// latchkey clients show <client_id>  (never shows a secret or its hash)
import type { Command } from 'commander';
import { findClientById } from '../../clients/client-queries.ts';
import { clientJson, clientText, registerShow, type Runner } from './common.ts';

export function registerClientsShow(clients: Command, run: Runner): void {
  const description = 'show one client (its secret cannot be shown again)';
  registerShow(clients, run, { usage: 'show <client_id>', description, what: 'client', find: findClientById, json: clientJson, text: clientText });
}
