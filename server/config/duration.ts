// Durations in env vars and CLI flags: "300" (seconds), "90s", "5m", "1h", "14d".
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a duration into whole seconds; throws a one-line message on bad input. */
export function parseDuration(input: string): number {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(input);
  if (!match) throw new Error(`"${input}" is not a duration (use e.g. 300, 90s, 5m, 1h, 14d)`);
  const seconds = Number(match[1]) * UNITS[match[2] || 's'];
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`"${input}" must be a positive duration`);
  return seconds;
}

/** Human form for messages: 3600 -> "1h". */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
