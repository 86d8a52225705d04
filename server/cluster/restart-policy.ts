// When the primary replaces a worker that exited on its own: at once after a
// worker that had been serving a while (a crash under load), with a doubling
// back-off after workers that die soon after their fork (a bad deploy, a
// store that refuses them), and never again after too many of those in a row:
// a worker that cannot start must not be forked in a tight loop for ever.

export interface RestartPolicyOptions {
  /** A worker that ran less than this crashed "at start". */
  quickMs: number;
  /** This many start crashes in a row: give up. */
  maxQuickCrashes: number;
  /** The back-off after the first start crash; doubles with each. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const RESTART_POLICY: RestartPolicyOptions = { quickMs: 10_000, maxQuickCrashes: 5, firstDelayMs: 500, maxDelayMs: 8_000 };

export class RestartPolicy {
  #quickCrashes = 0;
  readonly options: RestartPolicyOptions;
  constructor(options: RestartPolicyOptions = RESTART_POLICY) {
    this.options = options;
  }

  /** Start crashes in a row so far. */
  get quickCrashes(): number { return this.#quickCrashes; }

  /** A worker that ran `uptimeMs` exited: the delay before its replacement, or undefined to give up. */
  afterExit(uptimeMs: number): number | undefined {
    const { quickMs, maxQuickCrashes, firstDelayMs, maxDelayMs } = this.options;
    if (uptimeMs >= quickMs) {
      this.#quickCrashes = 0;
      return 0;
    }
    this.#quickCrashes++;
    if (this.#quickCrashes >= maxQuickCrashes) return undefined;
    return Math.min(maxDelayMs, firstDelayMs * 2 ** (this.#quickCrashes - 1));
  }
}
