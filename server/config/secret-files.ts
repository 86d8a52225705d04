// Secrets from files, the way Docker secrets (/run/secrets/NAME) and
// Kubernetes secret volumes hand them over: for every secret setting X,
// X_FILE may name a file whose contents (trailing newlines trimmed) are X's
// value, so the value never sits in the environment or the compose file.
import { readFileSync } from 'node:fs';
import type { Setting } from './settings.ts';

export const fileVariable = (name: string): string => `${name}_FILE`;

export interface FileSettings {
  /** The environment with each X_FILE's contents put in X. */
  env: NodeJS.ProcessEnv;
  /** Settings whose value came from a file (for error messages). */
  fromFile: Set<string>;
  /** One-line reasons, naming the variable and the path, never the contents. */
  problems: string[];
}

/** Reads X_FILE for every secret setting. An empty variable counts as unset, as everywhere in the config. */
export function readSecretFiles(env: NodeJS.ProcessEnv, settings: readonly Setting[]): FileSettings {
  const resolved: NodeJS.ProcessEnv = { ...env };
  const fromFile = new Set<string>();
  const problems: string[] = [];
  for (const { name, secret } of settings) {
    const variable = fileVariable(name);
    const path = env[variable];
    if (!secret || !path) continue;
    if (env[name]) {
      problems.push(`${name} and ${variable} are both set: keep one`);
      continue;
    }
    let contents: string;
    try {
      contents = readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
    } catch (error) {
      problems.push(`${variable} names a file that cannot be read (${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      continue;
    }
    if (!contents) {
      problems.push(`${variable} names an empty file (${path})`);
      continue;
    }
    resolved[name] = contents;
    fromFile.add(name);
  }
  return { env: resolved, fromFile, problems };
}
