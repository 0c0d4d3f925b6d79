import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineFileSchema, recordPipeline } from '../src/app/pipeline-record-file.js';

// pipeline.json, what `shipway run` keeps for the dashboard and for scripts: rewritten whole on
// every job state change and renamed into place, so a reader never sees half of one.
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('pipeline.json records (shipway run)', () => {
  it('follows the jobs as they change state, with start and end times, and leaves no temp files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipway-record-'));
    dirs.push(dir);
    const source = {
      id: 7,
      ref: 'dev',
      sha: 'a'.repeat(40),
      created: true,
      reason: null,
      status: 'not-created',
      ms: 0,
      jobs: [
        { name: 'build', stage: 'build', status: 'created', ms: null as number | null, log: join(dir, 'build.log') },
        {
          name: 'test 1/2',
          stage: 'test',
          status: 'created',
          ms: null as number | null,
          log: join(dir, 'test 1/2.log'),
        },
      ],
    };
    const read = () => pipelineFileSchema.parse(JSON.parse(readFileSync(join(dir, 'pipeline.json'), 'utf8')));
    const recorder = recordPipeline(dir, source, Date.parse('2024-01-01T00:00:00Z'));
    recorder.write();
    expect(read()).toMatchObject({ id: 7, status: 'running', startedAt: '2024-01-01T00:00:00.000Z', finishedAt: null });
    const build = source.jobs[0];
    if (build === undefined) throw new Error('no job');
    build.status = 'running';
    recorder.job('build', 'running');
    expect(read().jobs[0]).toMatchObject({ status: 'running', finishedAt: null, log: 'build.log' });
    expect(read().jobs[0]?.startedAt).not.toBeNull();
    build.status = 'success';
    build.ms = 1200;
    recorder.job('build', 'success');
    expect(read().jobs[0]).toMatchObject({ status: 'success', ms: 1200 });
    expect(read().jobs[0]?.finishedAt).not.toBeNull();
    // A job name with a slash (parallel: 2) keeps its log path relative to the pipeline's directory.
    expect(read().jobs[1]).toMatchObject({ status: 'created', log: 'test 1/2.log', startedAt: null });
    source.status = 'success';
    source.ms = 5000;
    recorder.finish();
    expect(read()).toMatchObject({ status: 'success', ms: 5000 });
    expect(read().finishedAt).not.toBeNull();
    expect(readdirSync(dir)).toEqual(['pipeline.json']);
  });
});
