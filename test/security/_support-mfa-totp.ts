// TOTP for the second-factor suites: an authenticator app (TotpDevice) that
// never hands out a step twice, codes for a step or a time (otplib), the
// 30-second steps, and waiting for a step (or a plain sleep).
import { randomInt } from 'node:crypto';
import { generate } from 'otplib/functional';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------ TOTP

export const TOTP_PERIOD = 30;

/** The 30-second TOTP step of a time (ms since the epoch). */
export const totpStep = (ms: number = Date.now()): number => Math.floor(ms / 1000 / TOTP_PERIOD);

/** The code of `secret` for a step (SHA-1, 6 digits, 30 s, like an authenticator app). */
export const totpCodeForStep = (secret: string, step: number): Promise<string> => generate({ secret, epoch: step * TOTP_PERIOD });

/** The code of `secret` at a Unix time in seconds. */
export const totpCodeAt = (secret: string, epochSeconds: number): Promise<string> => generate({ secret, epoch: epochSeconds });

/** Waits until the current step is at least `step` (plus a small margin). */
export async function waitForStep(step: number): Promise<void> {
  const wait = step * TOTP_PERIOD * 1000 + 250 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Waits for the next step when fewer than `marginSeconds` are left in this one (so a code's offset from "now" holds until the server checks it). */
export async function awayFromStepEdge(marginSeconds = 4): Promise<void> {
  const left = (totpStep() + 1) * TOTP_PERIOD * 1000 - Date.now();
  if (left < marginSeconds * 1000) await waitForStep(totpStep() + 1);
}

/**
 * An authenticator app holding one TOTP secret. It remembers the last step it
 * gave a code for, because the server refuses a step at or before the last one
 * it accepted (replay): `freshCode` never repeats a step.
 */
export class TotpDevice {
  readonly secret: string;
  /** The last step freshCode handed out (the server may have accepted it). */
  lastStep = -Infinity;

  constructor(secret: string) {
    this.secret = secret;
  }

  /**
   * A code for a step not handed out before and inside the server's ±1 step
   * window: the current step, else the next one, else (both used) it waits for
   * the next step. Marks the step used.
   */
  async freshCode(): Promise<string> {
    for (;;) {
      const now = totpStep();
      const step = [now, now + 1].find((s) => s > this.lastStep);
      if (step !== undefined) {
        this.lastStep = step;
        return totpCodeForStep(this.secret, step);
      }
      await waitForStep(this.lastStep);
    }
  }

  /** The code for a step offset from now (does not mark anything used). */
  codeAtOffset(seconds: number): Promise<string> {
    return totpCodeAt(this.secret, Math.floor(Date.now() / 1000) + seconds);
  }

  /** A 6-digit code that is not the code of any step within ±2 of now. */
  async wrongCode(): Promise<string> {
    const now = totpStep();
    const near = new Set(await Promise.all([-2, -1, 0, 1, 2].map((d) => totpCodeForStep(this.secret, now + d))));
    for (;;) {
      const guess = String(randomInt(1_000_000)).padStart(6, '0');
      if (!near.has(guess)) return guess;
    }
  }
}
