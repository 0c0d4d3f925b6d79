import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { processStat, sameProcessRunning } from '../../adapters/process/process-stat.js';
import { signalGroup } from '../../adapters/process/signal-group.js';

const recordSchema = z.object({
  pod: z.string(),
  pid: z.number().int().min(2),
  startTime: z.string(),
  bootId: z.string(),
});

export type PodProcessRecord = z.infer<typeof recordSchema>;

function readRecord(path: string): PodProcessRecord | undefined {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pod processes a cluster has running, one file per pod under <state-dir>/pods: the pid of the
 * pod's process group (each pod is spawned detached, as the leader of a group of its own) and the
 * leader's start time and boot id. A cluster that was SIGKILLed cannot stop its pods; the next
 * `cluster up` (or `cluster down`) kills every group whose leader is still that very process, and
 * never signals a process that merely reuses the pid.
 */
export class PodProcessRecords {
  constructor(private readonly dir: string) {}

  private file(pod: string): string {
    return join(this.dir, `${pod.replace(/[^a-zA-Z0-9._-]/g, '_')}.json`);
  }

  /**
   * Synchronous, called right after spawn, so that the window in which a killed cluster leaves a
   * pod it did not record stays as short as it can be. Without /proc there is no way to know the
   * pid later, so nothing is recorded (and nothing will be reaped).
   */
  record(pod: string, pid: number): void {
    const stat = processStat(pid);
    if (stat === undefined) return;
    const record: PodProcessRecord = { pod, pid, startTime: stat.startTime, bootId: stat.bootId };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(pod);
    writeFileSync(`${file}.tmp`, JSON.stringify(record), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  forget(pod: string): void {
    rmSync(this.file(pod), { force: true });
  }

  /**
   * Kills (SIGKILL) the group of every recorded pod whose leader still runs, waits until they are
   * gone (at most `waitMs`), and forgets every record. Returns the pids it killed.
   */
  async reap(waitMs = 5000): Promise<number[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const killed: PodProcessRecord[] = [];
    for (const name of names) {
      const path = join(this.dir, name);
      const record = name.endsWith('.json') ? readRecord(path) : undefined;
      if (record !== undefined && sameProcessRunning(record.pid, record) && signalGroup(record.pid, 'SIGKILL'))
        killed.push(record);
      rmSync(path, { force: true });
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(50))
      if (!killed.some((record) => sameProcessRunning(record.pid, record))) break;
    return killed.map((record) => record.pid);
  }
}
