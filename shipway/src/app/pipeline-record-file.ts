import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';

/** The machine-readable record of one `shipway run` pipeline: `.shipway/runs/<id>-<ref>/pipeline.json`. */
export const PIPELINE_FILE = 'pipeline.json';

const jobStatus = z.enum(['created', 'pending', 'running', 'success', 'failed', 'canceled', 'skipped', 'manual']);

export const pipelineFileSchema = z.object({
  version: z.literal(1),
  id: z.number(),
  ref: z.string(),
  sha: z.string(),
  created: z.boolean(),
  reason: z.string().nullable(),
  status: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  ms: z.number().nullable(),
  jobs: z.array(
    z.object({
      name: z.string(),
      stage: z.string(),
      status: jobStatus,
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      ms: z.number().nullable(),
      /** The log's file name in the pipeline's directory. */
      log: z.string(),
      /** Set when the job's result was reused from an earlier pipeline (SHIPWAY_REUSE: tree). */
      reused: z.object({ pipeline: z.number(), ref: z.string() }).optional(),
    }),
  ),
});

export type PipelineFile = z.infer<typeof pipelineFileSchema>;

interface RecordSource {
  readonly id: number;
  readonly ref: string;
  readonly sha: string;
  readonly created: boolean;
  readonly reason: string | null;
  readonly status: string;
  readonly ms: number;
  readonly jobs: readonly {
    name: string;
    stage: string;
    status: string;
    ms: number | null;
    log: string;
    reused?: { pipeline: number; ref: string } | undefined;
  }[];
}

/**
 * Keeps `pipeline.json` in step with a pipeline as it runs. Each write is a whole new file
 * renamed over the old one (rename(2) is atomic within a directory), synchronously, so a reader
 * never sees half a record and writes land in the order the states changed.
 */
export function recordPipeline(dir: string, source: RecordSource, startedMs: number) {
  const times = new Map<string, { startedAt: string | null; finishedAt: string | null }>();
  const startedAt = new Date(startedMs).toISOString();
  let finishedAt: string | null = null;
  const write = () => {
    const file: PipelineFile = {
      version: 1,
      id: source.id,
      ref: source.ref,
      sha: source.sha,
      created: source.created,
      reason: source.reason,
      status: source.status === 'not-created' && source.created ? 'running' : source.status,
      startedAt,
      finishedAt,
      ms: finishedAt === null ? null : source.ms,
      jobs: source.jobs.map((job) => ({
        name: job.name,
        stage: job.stage,
        status: jobStatus.catch('created').parse(job.status),
        startedAt: times.get(job.name)?.startedAt ?? null,
        finishedAt: times.get(job.name)?.finishedAt ?? null,
        ms: job.ms,
        log: relative(dir, job.log),
        ...(job.reused === undefined ? {} : { reused: job.reused }),
      })),
    };
    mkdirSync(dir, { recursive: true });
    const temporary = join(dir, `.${PIPELINE_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(temporary, join(dir, PIPELINE_FILE));
  };
  return {
    write,
    /** A job changed state: stamp when it started or ended, and write the record. */
    job(name: string, status: string): void {
      const now = new Date().toISOString();
      const entry = times.get(name) ?? { startedAt: null, finishedAt: null };
      if (status === 'running') times.set(name, { startedAt: now, finishedAt: null });
      else if (['success', 'failed', 'canceled'].includes(status)) times.set(name, { ...entry, finishedAt: now });
      write();
    },
    finish(): void {
      finishedAt = new Date().toISOString();
      write();
    },
  };
}
