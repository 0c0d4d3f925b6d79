import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  ActionBody,
  Actor,
  DashboardBackend,
  LiveEvent,
} from '../../adapters/dashboard-http/dashboard-backend.js';
import { type Board, buildBoard, withRollout } from '../../core/dashboard/board-model.js';
import { ShipwayError } from '../../core/errors.js';
import { rolloutView } from '../../core/rollout/rollout-view.js';
import { performAction } from './dashboard-actions.js';
import type { DashboardApp } from './dashboard-app.js';
import { doraMetrics } from './dora.js';
import { NotFoundError } from './not-found.js';
import { previewPromotion } from './promotion-preview.js';
import { NOTHING } from './release-history.js';
import { RolloutEventLog } from './rollout-event-log.js';

const POLL_MS = 1000;

/**
 * The dashboard's backend over apps → environments: reads through the use-cases and adapters
 * each app already has, pushes live changes (the cluster's Rollout watch at once; Git tips, pods,
 * analysis runs and pipeline records polled every second while someone is watching), and runs
 * actions through performAction with an audit line for each.
 */
export class DashboardService implements DashboardBackend {
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private readonly stop = new AbortController();
  private readonly lastBoard = new Map<string, string>();
  private readonly boards = new Map<string, Board>();
  private readonly lastRuns = new Map<string, string>();
  private readonly events: RolloutEventLog;
  private readonly auditFile: string;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private again = false;
  private watchEvents = 0;

  constructor(
    private readonly registry: ReadonlyMap<string, DashboardApp>,
    stateDir: string,
    private readonly say: (line: string) => void,
  ) {
    this.events = new RolloutEventLog(join(stateDir, 'rollout-events.jsonl'));
    this.auditFile = join(stateDir, 'audit.jsonl');
    for (const app of registry.values()) this.watchRollouts(app);
  }

  private app(name: string): DashboardApp {
    const app = this.registry.get(name);
    if (app === undefined) throw new NotFoundError(`no app ${JSON.stringify(name)}`);
    return app;
  }

  async apps(): Promise<unknown> {
    return [...this.registry.values()].map((app) => ({
      name: app.config.app,
      environments: app.config.environments.map((env) => ({
        name: env.name,
        branch: env.branch,
        namespace: env.namespace,
        gate: env.gate,
        from: env.from ?? null,
        strategy: env.rollout?.strategy ?? null,
      })),
    }));
  }

  async board(name: string): Promise<Board> {
    const app = this.app(name);
    const [{ snapshot }, runtime] = await Promise.all([app.history.refresh(), app.cluster.read()]);
    return buildBoard(
      app.config.app,
      app.config.environments.map((env) => {
        const live = runtime.get(env.name);
        const pinned = snapshot.pinned[env.name];
        return {
          environment: env.name,
          gate: env.gate,
          from: env.from ?? null,
          strategy: env.rollout?.strategy ?? null,
          pinned: pinned ?? { ...NOTHING, problem: 'not read yet' },
          rollout: live?.rollout ?? null,
          rolloutProblem: live?.rolloutProblem ?? null,
          analysis: live?.analysis ?? [],
          pods: live?.pods ?? null,
        };
      }),
    );
  }

  async timeline(name: string): Promise<unknown> {
    const { snapshot } = await this.app(name).history.refresh();
    return snapshot.events;
  }

  commitDiff(name: string, environment: string, commit: string): Promise<unknown> {
    return this.app(name).history.commitDiff(environment, commit);
  }

  preview(name: string, environment: string): Promise<unknown> {
    const app = this.app(name);
    return previewPromotion(app.context, app.config, app.history, { environment, configFile: app.configFile });
  }

  pipelines(name: string): Promise<unknown> {
    return this.app(name).runs.list();
  }

  pipeline(name: string, run: string) {
    return this.app(name).runs.read(run);
  }

  log(name: string, run: string, job: string, offset: number) {
    return this.app(name).runs.log(run, job, offset);
  }

  metrics(name: string, days: number): Promise<unknown> {
    const app = this.app(name);
    return doraMetrics(app.config, app.history, this.events, { days, now: new Date() });
  }

  async act(name: string, environment: string, body: ActionBody, actor: Actor): Promise<unknown> {
    const app = this.app(name);
    const action =
      body.action === 'release'
        ? { kind: body.action, environment, digest: body.digest, approve: body.approve }
        : { kind: body.action, environment, digest: body.digest };
    const entry = {
      at: new Date().toISOString(),
      ...actor,
      app: name,
      environment,
      action: body.action,
      digest: body.digest,
    };
    try {
      const outcome = await performAction(app.context, app.config, action, {
        configFile: app.configFile,
        kubeconfig: app.kubeconfig,
      });
      await this.audit_({ ...entry, outcome: 'done', code: null, message: outcome.message });
      void this.pollOnce();
      return outcome;
    } catch (error) {
      const code = error instanceof ShipwayError ? error.code : 'INTERNAL';
      const message = error instanceof Error ? error.message : String(error);
      await this.audit_({ ...entry, outcome: 'refused', code, message });
      throw error;
    }
  }

  private async audit_(entry: Record<string, unknown>): Promise<void> {
    this.say(
      `action ${entry.action} ${entry.app}/${entry.environment} ${entry.digest} by ${entry.who} from ${entry.address}: ${entry.outcome}${entry.code ? ` (${entry.code})` : ''}`,
    );
    await mkdir(join(this.auditFile, '..'), { recursive: true });
    await appendFile(this.auditFile, `${JSON.stringify(entry)}\n`);
    this.emit({ type: 'audit', entry });
  }

  async audit(): Promise<unknown> {
    const text = await readFile(this.auditFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(-200)
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as unknown];
        } catch {
          return [];
        }
      })
      .reverse();
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.timer === undefined) this.timer = setInterval(() => void this.pollOnce(), POLL_MS);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Reads the board (and the pipeline records) and pushes what changed since the last push. */
  private async pollOnce(): Promise<void> {
    if (this.listeners.size === 0) return;
    // A change seen while a poll runs is read by one more poll right after it, never dropped.
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        for (const app of this.registry.values()) await this.pushChanges(app);
      } while (this.again);
    } finally {
      this.polling = false;
    }
  }

  private async pushChanges(app: DashboardApp): Promise<void> {
    const name = app.config.app;
    const seen = this.watchEvents;
    let board = await this.board(name).catch(() => undefined);
    // A watch event during the read: what was read may be older than what was pushed; the poll
    // that follows reads again.
    if (this.watchEvents !== seen) board = undefined;
    const text = JSON.stringify(board);
    if (board !== undefined) this.boards.set(name, board);
    if (board !== undefined && this.lastBoard.get(name) !== text) {
      const first = !this.lastBoard.has(name);
      this.lastBoard.set(name, text);
      this.emit({ type: 'board', app: name, board });
      if (!first) this.emit({ type: 'timeline', app: name });
    }
    const runs = JSON.stringify(await app.runs.list().catch(() => []));
    if (this.lastRuns.get(name) !== runs) {
      const first = !this.lastRuns.has(name);
      this.lastRuns.set(name, runs);
      if (!first) this.emit({ type: 'pipelines', app: name });
    }
  }

  /**
   * The Rollout watch: records phase changes (for DORA's time to restore), pushes the last board
   * with this rollout in it at once (no reads in between), then reads the whole board again.
   */
  private watchRollouts(app: DashboardApp): void {
    app.cluster.watch((environment, rollout) => {
      const view = rolloutView(rollout, null);
      this.watchEvents += 1;
      const last = this.boards.get(app.config.app);
      if (last !== undefined && this.listeners.size > 0) {
        const board = withRollout(last, environment, view);
        this.boards.set(app.config.app, board);
        this.lastBoard.set(app.config.app, JSON.stringify(board));
        this.emit({ type: 'board', app: app.config.app, board });
      }
      const digest = view.canary.image?.includes('@') ? (view.canary.image.split('@')[1] ?? null) : null;
      void this.events
        .record({
          at: new Date().toISOString(),
          app: app.config.app,
          environment,
          phase: view.phase,
          digest,
          aborted: view.aborted,
        })
        .catch(() => undefined);
      void this.pollOnce();
    }, this.stop.signal);
  }

  async close(): Promise<void> {
    this.stop.abort();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.listeners.clear();
    for (const app of this.registry.values()) await app.history.dispose();
  }
}
