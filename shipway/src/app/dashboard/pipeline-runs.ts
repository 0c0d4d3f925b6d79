import { lstat, open, readdir, readFile, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { PIPELINE_FILE, type PipelineFile, pipelineFileSchema } from '../pipeline-record-file.js';
import { NotFoundError } from './not-found.js';

/** A run directory's name as `shipway run` makes it: `<id>-<ref slug>`. */
const RUN_DIR = /^\d{1,12}-[a-z0-9][a-z0-9-]{0,62}$/;
/** The most of a log one request returns; the client asks again from the offset it got. */
export const LOG_CHUNK_BYTES = 256 * 1024;

export interface PipelineSummary extends PipelineFile {
  readonly run: string;
}

/**
 * The pipelines `shipway run` recorded under `.shipway/runs`, read from their `pipeline.json`.
 * Nothing outside that directory is ever opened: run names are matched against the form
 * `shipway run` gives them, job logs are only those a record names, and every path is checked
 * after resolving symbolic links.
 */
export class PipelineRuns {
  constructor(private readonly dir: string) {}

  async list(limit = 50): Promise<PipelineSummary[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const runs: PipelineSummary[] = [];
    for (const name of names.filter((entry) => RUN_DIR.test(entry))) {
      const record = await this.read(name).catch(() => undefined);
      if (record !== undefined) runs.push(record);
    }
    return runs.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt) || b.id - a.id).slice(0, limit);
  }

  async read(run: string): Promise<PipelineSummary> {
    if (!RUN_DIR.test(run)) throw new NotFoundError(`no pipeline run ${JSON.stringify(run)}`);
    const file = await this.inside(join(this.dir, run, PIPELINE_FILE));
    const parsed = pipelineFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new NotFoundError(`${run}/${PIPELINE_FILE} is not a pipeline record`);
    return { ...parsed.data, run };
  }

  /** Up to LOG_CHUNK_BYTES of a job's log from `offset`, and the offset to ask from next. */
  async log(run: string, job: string, offset: number): Promise<{ text: string; next: number; size: number }> {
    const record = await this.read(run);
    const entry = record.jobs.find((candidate) => candidate.name === job);
    if (entry === undefined) throw new NotFoundError(`no job ${JSON.stringify(job)} in pipeline ${run}`);
    const runDir = resolve(this.dir, run);
    const candidate = resolve(runDir, entry.log);
    if (!candidate.startsWith(runDir + sep))
      throw new NotFoundError(`the log of ${job} is not in its pipeline's directory`);
    // A job that has not started yet has no log: an empty one, not an error.
    if (
      !(await lstat(candidate).then(
        () => true,
        () => false,
      ))
    )
      return { text: '', next: 0, size: 0 };
    const path = await this.inside(candidate);
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.min(Math.max(0, offset), size);
      const buffer = Buffer.alloc(Math.min(LOG_CHUNK_BYTES, size - start));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      const end = completeCharacters(buffer.subarray(0, bytesRead));
      return { text: buffer.subarray(0, end).toString('utf8'), next: start + end, size };
    } finally {
      await handle.close();
    }
  }

  /** The real path of `path` if it is a regular file inside the runs directory; NotFound otherwise. */
  private async inside(path: string): Promise<string> {
    const root = await realpath(this.dir).catch(() => this.dir);
    const real = await realpath(path).catch(() => undefined);
    if (real === undefined || !real.startsWith(root + sep) || !(await lstat(real)).isFile())
      throw new NotFoundError('no such file in the pipeline runs');
    return real;
  }
}

/**
 * How many bytes of `buffer` end on a whole UTF-8 character: a log being written may stop in the
 * middle of one, and the next read starts from the returned offset, so nothing is split.
 */
function completeCharacters(buffer: Buffer): number {
  let lead = buffer.length - 1;
  while (lead >= 0 && buffer.length - lead < 4 && ((buffer[lead] ?? 0) & 0xc0) === 0x80) lead -= 1;
  if (lead < 0) return buffer.length;
  const first = buffer[lead] ?? 0;
  const needs = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return buffer.length - lead >= needs ? buffer.length : lead;
}
