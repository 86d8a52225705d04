// latchkey apis show <id|identifier>
import type { Command } from 'commander';
import { findApi } from '../../apis/api-queries.ts';
import { apiJson, apiText, registerShow, type Runner } from './common.ts';

export function registerApisShow(apis: Command, run: Runner): void {
  registerShow(apis, run, { usage: 'show <api>', description: 'show one API, by id or identifier', what: 'API', find: findApi, json: apiJson, text: apiText });
}
