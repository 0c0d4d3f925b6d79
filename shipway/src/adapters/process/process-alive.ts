/**
 * Whether a process with this pid exists (signal 0). Only positive pids: 0 and negatives name
 * process groups, and a stale or empty state file must never make us signal our own group.
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
