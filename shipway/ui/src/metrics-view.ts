import type uPlot from 'uplot';
import { appPath, get } from './api.js';
import { h, when } from './dom.js';

interface Metrics {
  production: string;
  window: { start: string; end: string; days: number };
  deploymentFrequency: { environment: string; deployments: number; perDay: number }[];
  leadTime: {
    medianSeconds: number | null;
    meanSeconds: number | null;
    samples: number;
    unknown: number;
    releases: { promotedAt: string; seconds: number | null; digest: string | null }[];
  };
  changeFailureRate: { releases: number; failed: number; ratio: number | null };
  timeToRestore: { medianSeconds: number | null; samples: number; unknown: number };
}

const hours = (seconds: number | null) => (seconds === null ? '–' : `${(seconds / 3600).toFixed(1)} h`);

/** uPlot is loaded only when a chart is first drawn, so the first page load stays small. */
function loadUplot(): Promise<typeof uPlot> {
  const existing = (window as unknown as { uPlot?: typeof uPlot }).uPlot;
  if (existing !== undefined) return Promise.resolve(existing);
  return new Promise((resolve, reject) => {
    document.head.append(h('link', { rel: 'stylesheet', href: '/assets/vendor/uplot.css' }));
    const script = h('script', { src: '/assets/vendor/uplot.js' });
    script.addEventListener('load', () => resolve((window as unknown as { uPlot: typeof uPlot }).uPlot));
    script.addEventListener('error', reject);
    document.head.append(script);
  });
}

function figure(label: string, value: string, detail: string): HTMLElement {
  return h('div', { class: 'figure' }, h('span', {}, label), h('strong', {}, value), h('small', {}, detail));
}

export async function renderMetrics(app: string, days: number, onDays: (days: number) => void): Promise<HTMLElement> {
  const metrics = await get<Metrics>(`${appPath(app)}/metrics?days=${days}`);
  const select = h(
    'select',
    { 'aria-label': 'window' },
    ...[7, 30, 90, 365].map((value) =>
      h('option', { value: String(value), selected: value === days }, `last ${value} days`),
    ),
  );
  select.addEventListener('change', () => onDays(Number(select.value)));
  const rate = metrics.changeFailureRate;
  const chart = h('div', { class: 'chart', 'aria-label': `lead time per ${metrics.production} release, hours` });
  const section = h(
    'section',
    {},
    h('p', {}, select, ` ${when(metrics.window.start)} → ${when(metrics.window.end)}`),
    h(
      'div',
      { class: 'metrics' },
      ...metrics.deploymentFrequency.map((entry) =>
        figure(`deployments to ${entry.environment}`, String(entry.deployments), `${entry.perDay.toFixed(2)} per day`),
      ),
      figure(
        `lead time for changes (${metrics.production})`,
        hours(metrics.leadTime.medianSeconds),
        `median of ${metrics.leadTime.samples}; mean ${hours(metrics.leadTime.meanSeconds)}; ${metrics.leadTime.unknown} unknown`,
      ),
      figure(
        'change failure rate',
        rate.ratio === null ? '–' : `${(rate.ratio * 100).toFixed(0)} %`,
        `${rate.failed} of ${rate.releases} releases`,
      ),
      figure(
        'time to restore',
        hours(metrics.timeToRestore.medianSeconds),
        `median of ${metrics.timeToRestore.samples}; ${metrics.timeToRestore.unknown} unknown`,
      ),
    ),
    chart,
  );
  const points = metrics.leadTime.releases
    .filter((entry) => entry.seconds !== null)
    .sort((a, b) => Date.parse(a.promotedAt) - Date.parse(b.promotedAt));
  if (points.length > 0) {
    void loadUplot().then((UPlot) => {
      new UPlot(
        {
          title: 'lead time per release (hours)',
          width: Math.min(900, window.innerWidth - 64),
          height: 220,
          series: [{}, { label: 'lead time (h)', stroke: '#2563eb', points: { show: true, size: 6 } }],
        },
        [
          points.map((entry) => Date.parse(entry.promotedAt) / 1000),
          points.map((entry) => (entry.seconds ?? 0) / 3600),
        ],
        chart,
      );
    });
  } else chart.append(`no ${metrics.production} release with a known lead time in this window`);
  return section;
}
