import { scrapeText } from '../../adapters/metrics/http-metrics.js';
import { type Exposition, parseExposition } from '../../core/analysis/parse-exposition.js';
import { markStale, type PodTarget, podTargetLabels, recordScrape } from '../../core/analysis/scrape-labels.js';
import type { Labels, MemorySeriesStore } from '../../core/analysis/series-store.js';

export interface ScrapeTarget {
  readonly key: string;
  readonly url: string;
  readonly labels: Labels;
}

export interface ScraperOptions {
  readonly intervalMs: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly fetchText?: (url: string, timeoutMs: number) => Promise<string>;
  /** Told of each failed scrape (unreachable, not 2xx, not the text format); target undefined when listing targets failed. */
  readonly onError?: (target: ScrapeTarget | undefined, error: unknown) => void;
}

/** A pod as Prometheus' kubernetes-pods job scrapes it: http://<address>/metrics, pod labels. */
export function podScrapeTarget(pod: PodTarget): ScrapeTarget {
  return { key: `${pod.namespace}/${pod.pod}`, url: `http://${pod.address}/metrics`, labels: podTargetLabels(pod) };
}

/** A /metrics URL given directly: `instance` is its host:port, `job` is "shipway". */
export function urlScrapeTarget(url: string): ScrapeTarget {
  return { key: url, url, labels: { instance: new URL(url).host, job: 'shipway' } };
}

/**
 * The embedded Prometheus' scrape loop: every interval, each current target's /metrics into the
 * series store at the scrape's start time, staleness markers for series and targets that went
 * away. Scrapes never overlap; a slow target only delays itself until its timeout.
 */
export class MetricsScraper {
  private readonly seen = new Map<string, Map<string, Labels>>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(
    readonly store: MemorySeriesStore,
    private readonly targets: () => readonly ScrapeTarget[] | Promise<readonly ScrapeTarget[]>,
    private readonly options: ScraperOptions,
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private async scrapeTarget(target: ScrapeTarget, now: number): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? Math.max(1000, this.options.intervalMs);
    let exposition: Exposition | undefined;
    try {
      exposition = parseExposition(await (this.options.fetchText ?? scrapeText)(target.url, timeoutMs));
    } catch (error) {
      this.options.onError?.(target, error);
    }
    const previous = this.seen.get(target.key) ?? new Map<string, Labels>();
    this.seen.set(target.key, recordScrape(this.store, target.labels, exposition, now, previous));
  }

  /** One round over the current targets, all stamped with the round's start time. */
  async scrapeOnce(): Promise<void> {
    const now = this.now();
    let targets: readonly ScrapeTarget[];
    try {
      targets = await this.targets();
    } catch (error) {
      // Without the target list this round cannot tell a gone target from a listing hiccup: skip it.
      this.options.onError?.(undefined, error);
      return;
    }
    await Promise.all(targets.map((target) => this.scrapeTarget(target, now)));
    const keys = new Set(targets.map((target) => target.key));
    for (const [key, series] of this.seen) {
      if (keys.has(key)) continue;
      markStale(this.store, series, new Map(), now);
      this.seen.delete(key);
    }
  }

  /** Scrapes every interval from now on; the first round at once unless `immediately` is false. */
  start(immediately = true): void {
    if (this.timer !== undefined) return;
    const tick = () => {
      if (this.inFlight !== undefined) return;
      this.inFlight = this.scrapeOnce().finally(() => {
        this.inFlight = undefined;
      });
    };
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    if (immediately) tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}
