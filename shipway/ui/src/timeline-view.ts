import { appPath, get } from './api.js';
import { confirmAction } from './confirm-dialog.js';
import { diffBlock, h, toast, when } from './dom.js';
import type { ReleaseEvent } from './types.js';

async function showDiff(app: string, event: ReleaseEvent): Promise<void> {
  try {
    const { patch } = await get<{ patch: string }>(
      `${appPath(app)}/environments/${encodeURIComponent(event.environment)}/commits/${event.commit}/diff`,
    );
    await confirmAction(
      `${event.kind} ${event.environment} ${event.commit.slice(0, 12)}`,
      [event.subject, diffBlock(patch)],
      '',
    );
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error));
  }
}

/** Every promotion, rollback and abort, newest first; each opens the exact diff of its commit. */
export async function renderTimeline(app: string): Promise<HTMLElement> {
  const events = await get<ReleaseEvent[]>(`${appPath(app)}/timeline`);
  const rows = events.map((event) => {
    const open = h('button', { type: 'button', class: 'commit-link' }, event.commit.slice(0, 12));
    open.addEventListener('click', () => void showDiff(app, event));
    return h(
      'tr',
      { 'data-commit': event.commit },
      h('td', {}, when(event.at)),
      h('td', {}, event.environment),
      h('td', { class: `kind-${event.kind}` }, event.kind),
      h('td', {}, event.tag ?? '-', ' ', h('code', { title: event.digest ?? '' }, event.digest?.slice(7, 19) ?? '-')),
      h('td', {}, event.sourceEnvironment ?? '-'),
      h('td', {}, event.pipeline ?? '-'),
      h('td', {}, open),
    );
  });
  return h(
    'table',
    { class: 'timeline' },
    h('caption', {}, 'Promotions, rollbacks and aborts (from Git)'),
    h(
      'tr',
      {},
      ...['when', 'environment', 'what', 'image', 'from', 'pipeline', 'commit'].map((name) =>
        h('th', { scope: 'col' }, name),
      ),
    ),
    ...rows,
  );
}
