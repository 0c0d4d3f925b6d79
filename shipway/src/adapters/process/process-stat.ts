import { readFileSync } from 'node:fs';

/** Who a pid is right now: enough to tell it apart from a later process that reuses the number. */
export interface ProcessIdentity {
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after boot. */
  readonly startTime: string;
  /** /proc/sys/kernel/random/boot_id: start times restart from zero on every boot. */
  readonly bootId: string;
}

export interface ProcessStat extends ProcessIdentity {
  /** Field 3: R, S, D, Z (a zombie: dead, waiting for its parent to collect it), ... */
  readonly state: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The state and identity of a process from Linux's /proc (proc(5), /proc/pid/stat); undefined
 * when it does not exist, or where there is no /proc (the caller must then not trust a pid).
 */
export function processStat(pid: number): ProcessStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const stat = readText(`/proc/${pid}/stat`);
  const bootId = readText('/proc/sys/kernel/random/boot_id')?.trim();
  if (stat === undefined || bootId === undefined) return undefined;
  // Field 2 is the command name in parentheses and may itself hold spaces and ')': the fields
  // after the last ')' start with field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[22 - 3];
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state, startTime, bootId };
}

/** Whether `pid` is still the very process that `identity` was taken from, and not a zombie. */
export function sameProcessRunning(pid: number, identity: ProcessIdentity): boolean {
  const now = processStat(pid);
  return (
    now !== undefined && now.state !== 'Z' && now.startTime === identity.startTime && now.bootId === identity.bootId
  );
}
