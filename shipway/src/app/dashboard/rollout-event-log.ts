import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { RolloutEvent } from '../../core/dora/dora-metrics.js';

const eventSchema = z.object({
  at: z.string(),
  app: z.string(),
  environment: z.string(),
  phase: z.string(),
  digest: z.string().nullable(),
  aborted: z.boolean(),
});

export type RecordedRolloutEvent = z.infer<typeof eventSchema>;

/**
 * Rollout phase changes as the dashboard saw them through the watch, one JSON object a line
 * (append-only, so a crash loses at most the line being written). DORA's time to restore reads
 * them: Git says when a release was rolled back, only the cluster says when it was Healthy again.
 */
export class RolloutEventLog {
  private readonly last = new Map<string, string>();

  constructor(private readonly file: string) {}

  /** Appends the event if the environment's phase, digest or abort flag changed since the last one. */
  async record(event: RecordedRolloutEvent): Promise<boolean> {
    const key = `${event.app}/${event.environment}`;
    const state = `${event.phase}|${event.digest}|${event.aborted}`;
    if (this.last.get(key) === state) return false;
    this.last.set(key, state);
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify(event)}\n`);
    return true;
  }

  /** The app's events; lines that do not parse (a torn last line) are skipped. */
  async read(app: string): Promise<RolloutEvent[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    const events: RolloutEvent[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      const parsed = eventSchema.safeParse(value);
      if (parsed.success && parsed.data.app === app) {
        const { app: _app, ...event } = parsed.data;
        events.push(event);
      }
    }
    return events;
  }
}
