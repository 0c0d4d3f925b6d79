import { appPath, get } from './api.js';
import { duration, h, when } from './dom.js';
import type { Pipeline } from './types.js';

let logStream: EventSource | null = null;
/** One log pane for the page's life: re-rendering the pipelines (a live update) keeps an open log streaming. */
let logPane: HTMLElement | null = null;

/** A job's log, streamed while the job runs (server-sent `log` events, then `end`). */
function openLog(app: string, pipeline: Pipeline, job: string, target: HTMLElement): void {
  logStream?.close();
  const pre = h('pre', { class: 'log', tabindex: '0', 'aria-label': `log of ${job}` });
  target.replaceChildren(h('h3', {}, `${pipeline.ref} #${pipeline.id} · ${job}`), pre);
  const url = `${appPath(app)}/pipelines/${encodeURIComponent(pipeline.run)}/jobs/${encodeURIComponent(job)}/log/stream`;
  logStream = new EventSource(url);
  logStream.addEventListener('log', (event) => {
    const { text } = JSON.parse((event as MessageEvent<string>).data) as { text: string };
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(text);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  });
  logStream.addEventListener('end', () => logStream?.close());
}

export async function renderPipelines(app: string): Promise<HTMLElement> {
  const pipelines = await get<Pipeline[]>(`${appPath(app)}/pipelines`);
  logPane ??= h('section', { class: 'log-pane', 'aria-live': 'off' });
  const pane = logPane;
  const tables = pipelines.map((pipeline) =>
    h(
      'table',
      { class: 'pipeline', 'data-run': pipeline.run },
      h(
        'caption',
        {},
        `${pipeline.ref} #${pipeline.id} ${pipeline.status} · ${pipeline.sha.slice(0, 8)} · ${when(pipeline.startedAt)} · ${duration(pipeline.ms)}`,
      ),
      h(
        'tr',
        {},
        ...['job', 'stage', 'status', 'started', 'duration', 'log'].map((name) => h('th', { scope: 'col' }, name)),
      ),
      ...pipeline.jobs.map((job) => {
        const button = h('button', { type: 'button' }, 'log');
        button.addEventListener('click', () => openLog(app, pipeline, job.name, pane));
        const running =
          job.startedAt !== null && job.finishedAt === null ? Date.now() - Date.parse(job.startedAt) : null;
        return h(
          'tr',
          { 'data-job': job.name },
          h('td', {}, job.name),
          h('td', {}, job.stage),
          h(
            'td',
            { class: `status-${job.status}` },
            job.reused === undefined
              ? job.status
              : `${job.status} (reused from ${job.reused.ref} #${job.reused.pipeline})`,
          ),
          h('td', {}, when(job.startedAt)),
          h('td', {}, duration(job.ms ?? running)),
          h('td', {}, button),
        );
      }),
    ),
  );
  return h(
    'div',
    {},
    ...(tables.length === 0
      ? [h('p', {}, 'No pipeline runs yet (`shipway run` records them in .shipway/runs).')]
      : tables),
    logPane,
  );
}
