// Linux /proc readings about a server's processes: its children (the workers
// of WORKERS) and the CPU time they used. Shared by tests and the bench.
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after the command name (index 0 is the state). */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  } catch {
    return undefined; // gone
  }
}

/** Live (not zombie) direct children of `pid`. */
export function childPids(pid: number): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((child) => {
    const fields = statFields(child);
    return fields !== undefined && Number(fields[1]) === pid && fields[0] !== 'Z';
  });
}

/** CPU time (user + system) a process used so far, in µs; undefined when it is gone or off Linux. */
export function cpuTimeUs(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) * 10_000 : undefined; // utime + stime, in 100 Hz ticks
}
