import type { Labels, Series } from './series-store.js';
import { labelsKey } from './series-store.js';

export interface VectorSample {
  readonly labels: Labels;
  readonly value: number;
}

/** A query's result, as Prometheus' instant-query API types it. */
export type QueryValue =
  | { readonly type: 'scalar'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'vector'; readonly samples: readonly VectorSample[] }
  | { readonly type: 'matrix'; readonly series: readonly Series[] };

/** An evaluation error Prometheus would answer with (many-to-many matching, duplicate series). */
export class QueryError extends Error {}

export function withoutName(labels: Labels): Labels {
  const { __name__: _, ...rest } = labels;
  return rest;
}

/** Prometheus refuses a vector whose elements share a label set (engine.go rangeEval). */
export function uniqueVector(samples: readonly VectorSample[]): readonly VectorSample[] {
  const seen = new Set<string>();
  for (const sample of samples) {
    const key = labelsKey(sample.labels);
    if (seen.has(key)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
  return samples;
}
