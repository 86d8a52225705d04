// One store's readiness check: at most one query in flight (a hanging store
// never piles up probes), judged against a deadline, and answered without
// waiting for it: a probe gets the check's outcome if it comes within
// `waitMs` (and before the deadline), "failed" once the check in flight is
// older than the deadline, and the last outcome otherwise. A check that
// answers after its deadline counts as failed; the next probe starts a new one.

export interface CheckOutcome {
  ok: boolean;
  /**
   * Why it failed, for the readiness body anyone may read: a timing, or the
   * error's code (ECONNREFUSED), never its message (host names, addresses,
   * user names).
   */
  reason?: string;
  /** The error's message too, for the log only. */
  detail?: string;
}

/** A store error as the readiness body may show it: its code when it has a plain one. */
function publicReason(error: unknown): string {
  // A StoreUnavailableError carries the store's own error as its cause.
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code)) return `error ${code}`;
  return (error as { name?: unknown } | undefined)?.name === 'StoreUnavailableError' ? 'unavailable' : 'error';
}

export const STORE_DEADLINE_MS = 1_000;

/** Thrown by a check whose store client gave up waiting itself (its own timeout came first). */
export class NoAnswerError extends Error {
  override name = 'NoAnswerError';
}

export class StoreCheck {
  readonly name: string;
  #run: () => Promise<unknown>;
  #deadlineMs: number;
  #inFlight: { startedAt: number; outcome: Promise<CheckOutcome> } | undefined;
  #last: CheckOutcome | undefined;

  /** `run` resolves when the store answered and throws (a one-line message) when it refused. */
  constructor(name: string, run: () => Promise<unknown>, deadlineMs = STORE_DEADLINE_MS) {
    this.name = name;
    this.#run = run;
    this.#deadlineMs = deadlineMs;
  }

  /** The store's state now, waiting at most `waitMs` for a check in flight. */
  async status(waitMs: number): Promise<CheckOutcome> {
    const check = this.#inFlight ?? this.#start();
    let timer: NodeJS.Timeout | undefined;
    // Past the deadline there is nothing to wait for: the answer is "failed".
    const wait = Math.max(0, Math.min(waitMs, check.startedAt + this.#deadlineMs - Date.now()));
    const waited = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, wait, undefined); });
    const outcome = await Promise.race([check.outcome, waited]).finally(() => clearTimeout(timer));
    if (outcome) return outcome;
    const age = Date.now() - check.startedAt;
    if (age >= this.#deadlineMs) return { ok: false, reason: `no answer for ${(age / 1000).toFixed(1)} s` };
    return this.#last ?? { ok: false, reason: 'no answer yet' };
  }

  #start() {
    const startedAt = Date.now();
    const settle = (error?: unknown): CheckOutcome => {
      const ms = Date.now() - startedAt;
      const outcome: CheckOutcome = error instanceof NoAnswerError
        ? { ok: false, reason: `no answer for ${(ms / 1000).toFixed(1)} s`, detail: error.message }
        : error !== undefined
        ? { ok: false, reason: publicReason(error), detail: error instanceof Error ? error.message : String(error) }
        : ms > this.#deadlineMs
          ? { ok: false, reason: `answered after ${(ms / 1000).toFixed(1)} s (limit ${this.#deadlineMs / 1000} s)` }
          : { ok: true };
      this.#last = outcome;
      this.#inFlight = undefined;
      return outcome;
    };
    const outcome = this.#run().then(() => settle(), (error: unknown) => settle(error ?? new Error('failed')));
    const check = { startedAt, outcome };
    this.#inFlight = check;
    return check;
  }
}
