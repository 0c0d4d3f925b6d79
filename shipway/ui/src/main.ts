import { ApiError, get, post, type SessionInfo, setCsrf } from './api.js';
import { type BoardContext, renderBoard } from './board-view.js';
import { h, toast, when } from './dom.js';
import { renderMetrics } from './metrics-view.js';
import { renderPipelines } from './pipelines-view.js';
import { renderTimeline } from './timeline-view.js';
import type { AppInfo, Board } from './types.js';

type View = 'board' | 'timeline' | 'pipelines' | 'metrics' | 'audit';

const state = { view: 'board' as View, app: '', days: 30, session: null as SessionInfo | null };
const main = () => document.getElementById('main') as HTMLElement;

function boardContext(): BoardContext {
  return { app: state.app, allowActions: state.session?.allowActions === true };
}

async function renderAudit(): Promise<HTMLElement> {
  const entries = await get<Record<string, string | null>[]>('/api/audit');
  return h(
    'table',
    {},
    h('caption', {}, 'Actions taken from this dashboard'),
    h(
      'tr',
      {},
      ...['when', 'who', 'from', 'action', 'environment', 'digest', 'outcome'].map((name) =>
        h('th', { scope: 'col' }, name),
      ),
    ),
    ...entries.map((entry) =>
      h(
        'tr',
        {},
        h('td', {}, when(entry.at)),
        h('td', {}, entry.who ?? '-'),
        h('td', {}, entry.address ?? '-'),
        h('td', {}, entry.action ?? '-'),
        h('td', {}, entry.environment ?? '-'),
        h('td', {}, h('code', {}, entry.digest ?? '-')),
        h('td', {}, `${entry.outcome}${entry.code ? ` (${entry.code})` : ''}: ${entry.message ?? ''}`),
      ),
    ),
  );
}

async function render(): Promise<void> {
  try {
    const view =
      state.view === 'board'
        ? renderBoard(await get<Board>(`/api/apps/${encodeURIComponent(state.app)}/board`), boardContext())
        : state.view === 'timeline'
          ? await renderTimeline(state.app)
          : state.view === 'pipelines'
            ? await renderPipelines(state.app)
            : state.view === 'metrics'
              ? await renderMetrics(state.app, state.days, (days) => {
                  state.days = days;
                  void render();
                })
              : await renderAudit();
    main().replaceChildren(view);
  } catch (error) {
    main().replaceChildren(h('p', { class: 'problem' }, error instanceof Error ? error.message : String(error)));
  }
}

function selectView(view: View): void {
  state.view = view;
  for (const button of document.querySelectorAll<HTMLButtonElement>('nav button'))
    button.toggleAttribute('aria-current', button.dataset.view === view);
  for (const button of document.querySelectorAll<HTMLButtonElement>('nav button[aria-current]'))
    button.setAttribute('aria-current', 'page');
  void render();
}

/** Server-sent events: the board is replaced as it comes; other views re-read what changed. */
function listen(): void {
  const live = document.getElementById('live') as HTMLElement;
  const events = new EventSource('/api/events');
  events.addEventListener('open', () => {
    live.textContent = 'live';
  });
  events.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
  });
  events.addEventListener('board', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as { app: string; board: Board };
    if (data.app !== state.app || state.view !== 'board' || document.querySelector('dialog[open]') !== null) return;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.action : undefined;
    const env = document.activeElement?.closest('[data-env]')?.getAttribute('data-env');
    main().replaceChildren(renderBoard(data.board, boardContext()));
    if (focused !== undefined && env)
      main().querySelector<HTMLElement>(`[data-env="${env}"] [data-action="${focused}"]`)?.focus();
    live.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  });
  for (const type of ['timeline', 'pipelines'] as const)
    events.addEventListener(type, () => {
      if (state.view === type && document.querySelector('dialog[open]') === null) void render();
    });
  events.addEventListener('audit', () => {
    if (state.view === 'audit') void render();
  });
}

async function signIn(form: HTMLFormElement): Promise<void> {
  const input = document.getElementById('token') as HTMLInputElement;
  try {
    const session = await post<SessionInfo>('/api/session', { token: input.value });
    input.value = '';
    form.hidden = true;
    await start(session);
  } catch (error) {
    toast(error instanceof ApiError ? error.message : String(error));
  }
}

async function start(session?: SessionInfo): Promise<void> {
  state.session = session ?? (await get<SessionInfo>('/api/session'));
  setCsrf(state.session.csrf);
  const form = document.getElementById('signin') as HTMLFormElement;
  form.hidden = state.session.authenticated || (state.session.readable && !state.session.allowActions);
  (document.getElementById('mode') as HTMLElement).textContent = state.session.allowActions
    ? state.session.authenticated
      ? 'actions enabled'
      : 'sign in to act'
    : 'read-only';
  if (!state.session.readable) {
    main().replaceChildren(
      h('p', {}, 'This dashboard is not on loopback: sign in with the token printed when it started.'),
    );
    return;
  }
  const apps = await get<AppInfo[]>('/api/apps');
  const picker = document.getElementById('app') as HTMLSelectElement;
  picker.replaceChildren(...apps.map((app) => h('option', { value: app.name }, app.name)));
  state.app = state.app || apps[0]?.name || '';
  picker.value = state.app;
  picker.onchange = () => {
    state.app = picker.value;
    void render();
  };
  await render();
  listen();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const button of document.querySelectorAll<HTMLButtonElement>('nav button'))
    button.addEventListener('click', () => selectView((button.dataset.view ?? 'board') as View));
  const form = document.getElementById('signin') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(form);
  });
  void start();
});
