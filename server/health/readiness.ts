// Readiness: the stores answer (each within its deadline, checked in
// parallel) and the local conditions hold (not shutting down, keys loaded,
// migrations applied). Answers within ANSWER_WITHIN_MS plus a few
// milliseconds however the stores behave: probes with a 1 s timeout (the
// Kubernetes default) always get a body to read.
import type { StoreCheck } from './store-check.ts';

export const ANSWER_WITHIN_MS = 250;

export interface LocalCheck {
  name: string;
  /** Undefined when it holds, else why not. */
  failure(): string | undefined;
}

export interface ReadinessReport {
  ready: boolean;
  /** Each failed check by name, with its reason (safe to show anyone). */
  failed: Record<string, string>;
  /** The failed stores' error messages, for the log only. */
  details?: Record<string, string>;
}

export type Readiness = () => Promise<ReadinessReport>;

/** Store checks in parallel, then the local checks in order. */
export function createReadiness(stores: StoreCheck[], local: LocalCheck[], waitMs = ANSWER_WITHIN_MS): Readiness {
  return async () => {
    const failed: Record<string, string> = {};
    const outcomes = await Promise.all(stores.map(async (store) => [store.name, await store.status(waitMs)] as const));
    const details: Record<string, string> = {};
    for (const [name, outcome] of outcomes) {
      if (outcome.ok) continue;
      failed[name] = outcome.reason ?? 'failed';
      if (outcome.detail) details[name] = outcome.detail;
    }
    // After the stores: a local check may read what a store check recorded (the schema version).
    for (const check of local) {
      const failure = check.failure();
      if (failure) failed[check.name] = failure;
    }
    return { ready: Object.keys(failed).length === 0, failed, ...(Object.keys(details).length ? { details } : {}) };
  };
}
