import type { GitScratch } from '../../adapters/git/git-scratch.js';
import type { EnvironmentConfig, ShipwayConfig } from '../../core/config/shipway-config.js';
import type { PinnedRelease } from '../../core/dashboard/board-model.js';
import { mergeTimelines, type ReleaseEvent, releaseTimeline } from '../../core/dashboard/release-timeline.js';
import { ConfigError } from '../../core/errors.js';
import { formatEntry } from '../../core/promotion/plan-promotion.js';
import type { AppContext } from '../context.js';
import { branchMissing, openScratch, readOverlayAt } from '../overlay-branch.js';
import { NotFoundError } from './not-found.js';

export interface HistorySnapshot {
  /** Each environment branch's tip, by branch; absent when the branch does not exist. */
  readonly tips: ReadonlyMap<string, string>;
  readonly pinned: Readonly<Record<string, PinnedRelease>>;
  /** Every environment's promotions, rollbacks and aborts, newest first. */
  readonly events: readonly ReleaseEvent[];
  /** The overlay file of each environment, by environment. */
  readonly files: Readonly<Record<string, string>>;
}

/** A pin with nothing known: each use says why in `problem`. */
export const NOTHING: PinnedRelease = {
  image: null,
  tag: null,
  digest: null,
  commit: null,
  promotedAt: null,
  promotedFrom: null,
  pipeline: null,
  kind: null,
  problem: null,
};

/**
 * One app's GitOps history, read from its remote through a private scratch repository that lives
 * as long as the dashboard: the branch tips are compared on every `refresh` (one `ls-remote`),
 * and the branches are fetched and read again only when a tip moved. Git work is serialised, so
 * concurrent requests never race on the scratch repository's refs.
 */
export class ReleaseHistory {
  private queue: Promise<unknown> = Promise.resolve();
  private snapshot: HistorySnapshot | undefined;

  private constructor(
    private readonly config: ShipwayConfig,
    private readonly scratch: GitScratch,
  ) {}

  static async open(context: AppContext, config: ShipwayConfig): Promise<ReleaseHistory> {
    return new ReleaseHistory(config, await openScratch(context, config));
  }

  async dispose(): Promise<void> {
    await this.serial(() => this.scratch.dispose());
  }

  /** Runs `work` after every earlier piece of Git work has finished. */
  serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The current history; `changed` is true when a branch moved since the last call. */
  refresh(): Promise<{ snapshot: HistorySnapshot; changed: boolean }> {
    return this.serial(async () => {
      const branches = this.config.environments.map((env) => env.branch);
      const tips = await this.scratch.remoteHeads(branches);
      const previous = this.snapshot;
      if (previous !== undefined && sameTips(previous.tips, tips)) return { snapshot: previous, changed: false };
      this.snapshot = await this.read(tips);
      return { snapshot: this.snapshot, changed: true };
    });
  }

  private async read(tips: ReadonlyMap<string, string>): Promise<HistorySnapshot> {
    const pinned: Record<string, PinnedRelease> = {};
    const files: Record<string, string> = {};
    const timelines: ReleaseEvent[][] = [];
    for (const env of this.config.environments) {
      if (!tips.has(env.branch) || (await this.scratch.fetchBranch(env.branch)) === null) {
        pinned[env.name] = { ...NOTHING, problem: branchMissing(env.branch) };
        continue;
      }
      try {
        const { file, entry } = await this.overlay(env);
        files[env.name] = file;
        const log = await this.scratch.log(`refs/shipway/${env.branch}`, file);
        const events = releaseTimeline(
          env.name,
          log.map((commit) => ({ sha: commit.commit, committedAt: commit.date, message: commit.message })),
        );
        timelines.push(events);
        const [last] = log;
        const event = events.find((candidate) => candidate.commit === last?.commit);
        pinned[env.name] = {
          image: entry === undefined ? null : formatEntry(entry),
          tag: entry?.newTag || null,
          digest: entry?.digest || null,
          commit: last?.commit ?? null,
          promotedAt: last?.date ?? null,
          promotedFrom: event?.sourceEnvironment ?? null,
          pipeline: event?.pipeline ?? null,
          kind: event?.kind ?? null,
          problem: entry === undefined ? `no ${this.config.image.name} image pinned in ${file}` : null,
        };
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        pinned[env.name] = { ...NOTHING, problem: error.message };
      }
    }
    return { tips, pinned, events: mergeTimelines(timelines), files };
  }

  private async overlay(env: EnvironmentConfig) {
    const overlay = await readOverlayAt(this.scratch, `refs/shipway/${env.branch}`, env);
    return { file: overlay.file, entry: overlay.images.find((image) => image.name === this.config.image.name) };
  }

  /**
   * Committer times of commits in the environment branches or the remote's default branch (where
   * images are built from); commits in neither are left out.
   */
  commitTimes(shas: readonly string[]): Promise<Map<string, string>> {
    const wanted = [...new Set(shas.filter((sha) => /^[0-9a-f]{7,64}$/.test(sha)))];
    if (wanted.length === 0) return Promise.resolve(new Map());
    return this.serial(async () => {
      await this.scratch.fetchRemoteHead();
      const out = await this.scratch.read([
        'log',
        '--no-walk=unsorted',
        '--ignore-missing',
        '--format=%H %cI',
        ...wanted,
      ]);
      return new Map(
        out
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => line.split(' ') as [string, string]),
      );
    });
  }

  /**
   * The commit's change to the environment's overlay (`git show`), only for a release commit of
   * that environment: nothing else in the repository can be read through this.
   */
  async commitDiff(environment: string, commit: string): Promise<{ event: ReleaseEvent; patch: string }> {
    const { snapshot } = await this.refresh();
    const event = snapshot.events.find((entry) => entry.environment === environment && entry.commit === commit);
    const file = snapshot.files[environment];
    if (event === undefined || file === undefined)
      throw new NotFoundError(`${commit} is not a release commit of ${environment}`);
    const patch = await this.serial(() =>
      this.scratch.read(['show', '--no-color', '--no-ext-diff', '--format=', '--patch', commit, '--', file]),
    );
    return { event, patch };
  }

  /** The scratch repository, for work that needs the fetched trees (the promotion preview). */
  get git(): GitScratch {
    return this.scratch;
  }
}

function sameTips(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([branch, sha]) => b.get(branch) === sha);
}
