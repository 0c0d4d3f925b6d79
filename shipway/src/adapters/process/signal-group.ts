/**
 * Signals a whole process group (a child spawned `detached` leads one): what it started goes
 * too. False when the group is gone already, or `pid` cannot be a group leader of ours.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
