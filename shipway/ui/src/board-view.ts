import { appPath, get, post } from './api.js';
import { confirmAction } from './confirm-dialog.js';
import { diffBlock, h, toast, when } from './dom.js';
import type { Board, Card, DigestView, ReleaseEvent } from './types.js';

export interface BoardContext {
  app: string;
  allowActions: boolean;
}

/** A digest shown by its first 12 hex digits; the full value on hover, and copied on click. */
export function digestChip(digest: DigestView | null): HTMLElement | string {
  if (digest === null) return '-';
  const chip = h(
    'button',
    {
      type: 'button',
      class: `digest r${((digest.release - 1) % 6) + 1}`,
      title: digest.full,
      'aria-label': `digest ${digest.full}, copy`,
    },
    digest.short,
  );
  chip.addEventListener('click', () => {
    void navigator.clipboard?.writeText(digest.full).then(
      () => toast(`copied ${digest.full}`),
      () => toast(digest.full),
    );
  });
  return chip;
}

function rolloutRows(card: Card): (Node | string)[] {
  const rollout = card.rollout;
  if (rollout === null) return [h('dt', {}, 'rollout'), h('dd', {}, 'not running')];
  const weights = h(
    'div',
    {
      class: 'weights',
      role: 'img',
      'aria-label': `canary ${rollout.canaryWeight} %, stable ${rollout.stableWeight} %`,
    },
    h('div', { class: 'canary' }),
    h('div', { class: 'stable' }),
  );
  (weights.children[0] as HTMLElement).style.width = `${rollout.canaryWeight}%`;
  (weights.children[1] as HTMLElement).style.width = `${rollout.stableWeight}%`;
  return [
    h('dt', {}, 'phase'),
    h('dd', { class: `phase phase-${rollout.phase}` }, rollout.phase, rollout.message ? ` — ${rollout.message}` : ''),
    h('dt', {}, 'step'),
    h('dd', { class: 'step' }, rollout.step === null ? '-' : `${rollout.step.current}/${rollout.step.total}`),
    h('dt', {}, 'weights'),
    h('dd', {}, `canary ${rollout.canaryWeight} % · stable ${rollout.stableWeight} %`, weights),
    h('dt', {}, 'canary'),
    h('dd', {}, rollout.canary.revision ?? '-', ' ', digestChip(rollout.canary.digest)),
    h('dt', {}, 'stable'),
    h('dd', {}, rollout.stable.revision ?? '-', ' ', digestChip(rollout.stable.digest)),
  ];
}

function analysisBlock(card: Card): HTMLElement | null {
  if (card.analysis.length === 0) return null;
  return h(
    'details',
    { class: 'analysis' },
    h('summary', {}, `analysis: ${card.analysis.map((run) => `${run.name} ${run.phase}`).join(', ')}`),
    ...card.analysis.map((run) =>
      h(
        'table',
        {},
        h('caption', {}, `${run.name} (${run.revision ?? '-'}) ${run.phase}${run.message ? `: ${run.message}` : ''}`),
        h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'phase'), h('th', {}, 'measurements')),
        ...run.metrics.map((metric) =>
          h(
            'tr',
            {},
            h('td', {}, metric.name),
            h('td', {}, metric.phase),
            h('td', {}, metric.measurements.map((m) => `${m.value ?? '∅'} (${m.phase})`).join(', ') || '-'),
          ),
        ),
      ),
    ),
  );
}

function renderCard(card: Card, board: Board, context: BoardContext): HTMLElement {
  const release = card.image.digest === null ? '' : `r${((card.image.digest.release - 1) % 6) + 1}`;
  const pods =
    card.pods === null
      ? '-'
      : card.pods.map((entry) => `${entry.role} ${entry.revision}: ${entry.ready}/${entry.total}`).join(' · ') ||
        'none';
  return h(
    'article',
    { class: `card ${release}`, 'data-env': card.environment, 'aria-label': `environment ${card.environment}` },
    h(
      'h2',
      {},
      card.environment,
      h('small', {}, card.gate === 'manual' ? 'manual gate' : card.from === null ? 'first' : `from ${card.from}`),
    ),
    h(
      'dl',
      {},
      h('dt', {}, 'image'),
      h('dd', {}, card.image.tag ?? '-', ' ', digestChip(card.image.digest)),
      h('dt', {}, 'commit'),
      h(
        'dd',
        { class: 'commit' },
        card.commit === null
          ? '-'
          : `${card.commit.short} ${card.commit.kind ?? 'edit'} ${when(card.commit.at)}${card.commit.pipeline ? ` · pipeline ${card.commit.pipeline}` : ''}${card.commit.from ? ` · from ${card.commit.from}` : ''}`,
      ),
      ...rolloutRows(card),
      h('dt', {}, 'pods'),
      h('dd', { class: 'pods' }, pods),
    ),
    analysisBlock(card),
    ...card.problems.map((problem) => h('p', { class: 'problem' }, problem)),
    actions(card, board, context),
  );
}

type ActionKind = 'release' | 'promote' | 'promote-full' | 'abort' | 'retry' | 'rollback';

async function act(
  context: BoardContext,
  card: Card,
  kind: ActionKind,
  digest: string,
  extra: Node[] = [],
): Promise<void> {
  const manual = kind === 'release' && card.gate === 'manual';
  const confirmed = await confirmAction(
    `${kind} ${card.environment}`,
    [
      `${kind} in ${card.environment}, for digest:`,
      h('code', { class: 'confirm-digest' }, digest),
      ...(manual ? [`${card.environment} has a manual gate: confirming approves this promotion.`] : []),
      ...extra,
    ],
    `${kind} ${digest.slice(7, 19)}`,
  );
  if (!confirmed) return;
  try {
    const body = kind === 'release' ? { action: kind, digest, approve: manual } : { action: kind, digest };
    const result = await post<{ message: string }>(
      `${appPath(context.app)}/environments/${encodeURIComponent(card.environment)}/actions`,
      body,
    );
    toast(result.message);
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error));
  }
}

/** Opens at once and fills in when the preview is computed (kustomize runs twice: it takes a moment). */
async function preview(context: BoardContext, card: Card): Promise<void> {
  const body = h(
    'div',
    { class: 'preview' },
    h('p', { role: 'status' }, 'computing: kustomize build before and after…'),
  );
  const closed = confirmAction(`preview: promote ${card.environment} --from ${card.from}`, [body], '');
  try {
    const result = await get<{
      status: string;
      image: string;
      previous: string | null;
      kustomizationDiff: string;
      renderedDiff: string;
    }>(`${appPath(context.app)}/environments/${encodeURIComponent(card.environment)}/preview`);
    body.replaceChildren(
      h('p', {}, `${result.status}: ${result.previous ?? 'nothing'} → ${result.image}`),
      h('h3', {}, 'kustomization'),
      diffBlock(result.kustomizationDiff),
      h('h3', {}, 'rendered manifests (kustomize build)'),
      diffBlock(result.renderedDiff),
    );
  } catch (error) {
    body.replaceChildren(h('p', { class: 'problem' }, error instanceof Error ? error.message : String(error)));
  }
  await closed;
}

async function rollbackTarget(context: BoardContext, card: Card): Promise<string | null> {
  const events = await get<ReleaseEvent[]>(`${appPath(context.app)}/timeline`);
  const current = card.image.digest?.full;
  return (
    events.find((event) => event.environment === card.environment && event.digest !== null && event.digest !== current)
      ?.digest ?? null
  );
}

function actions(card: Card, board: Board, context: BoardContext): HTMLElement {
  const bar = h('div', { class: 'actions' });
  const button = (label: string, run: () => void, danger = false) => {
    const element = h('button', { type: 'button', class: danger ? 'danger' : '', 'data-action': label }, label);
    element.addEventListener('click', run);
    bar.append(element);
  };
  const upstream = board.cards.find((other) => other.environment === card.from);
  if (card.from !== null) button(`Preview from ${card.from}`, () => void preview(context, card));
  if (!context.allowActions) return bar;
  const upstreamDigest = upstream?.image.digest?.full;
  if (upstreamDigest !== undefined && upstreamDigest !== card.image.digest?.full)
    button(`Release from ${card.from}`, () => void act(context, card, 'release', upstreamDigest));
  const rollout = card.rollout;
  const canary = rollout?.canary.digest?.full;
  if (rollout !== null && canary !== undefined && rollout.canary.revision !== rollout.stable.revision) {
    if (!rollout.aborted) {
      button('Promote', () => void act(context, card, 'promote', canary));
      button('Promote full', () => void act(context, card, 'promote-full', canary));
      button('Abort', () => void act(context, card, 'abort', canary), true);
    } else button('Retry', () => void act(context, card, 'retry', canary));
  }
  button(
    'Roll back',
    () => {
      void rollbackTarget(context, card).then((digest) =>
        digest === null ? toast(`${card.environment} has no earlier image`) : act(context, card, 'rollback', digest),
      );
    },
    true,
  );
  return bar;
}

export function renderBoard(board: Board, context: BoardContext): HTMLElement {
  return h(
    'section',
    { class: 'board', 'aria-label': 'environments' },
    ...board.cards.map((card) => renderCard(card, board, context)),
  );
}
