import type { Variables } from './ci-expression.js';
import type { CiSources, ExternalIncludes } from './ci-sources.js';
import type { CiFile, CiMap, CiProblem, SourceLocation } from './ci-yaml.js';
import type { RuleContext } from './match-rules.js';

// The shapes the planner's composing and checking steps share: kept apart from the steps
// themselves so that no two steps import each other.

/** One instance of a `parallel` job. */
export interface ParallelInstance {
  /** The job's name as written (`build`), which `needs` and `dependencies` may name. */
  readonly job: string;
  /** 1-based, as CI_NODE_INDEX. */
  readonly index: number;
  readonly total: number;
  /** `parallel:matrix`: this instance's variables. */
  readonly variables: ReadonlyMap<string, string> | undefined;
}

export interface CiJob {
  readonly name: string;
  /** The job after `!reference`, `extends` and `default`. */
  readonly definition: CiMap;
  readonly location: SourceLocation;
  /** Where `key` is written for this job (in the job or what it extends), else the job itself. */
  keyLocation(key: string): SourceLocation;
  /** For one instance of a `parallel` job: its index, the total and its matrix variables. */
  readonly parallel?: ParallelInstance | undefined;
}

/**
 * What `include` may look at while the config is composed, before any job exists
 * (https://docs.gitlab.com/ci/yaml/includes/#use-variables-with-include): the predefined and
 * project variables (not the file's own `variables:`), for `$VAR` in include entries,
 * `include:rules` and `expand_vars`; and where includes from outside the repository are kept.
 */
export interface IncludeContext {
  readonly variables: Variables;
  readonly rules: RuleContext;
  readonly external?: ExternalIncludes | undefined;
  /** Read every include whatever its `rules` say (fetching: any pipeline may need it). */
  readonly everyInclude?: boolean | undefined;
}

/** An include that cannot be read offline: one error, which the follow-on problems are folded into. */
export interface MissingInclude {
  readonly what: string;
  readonly hint: string;
  readonly location: SourceLocation;
}

/** Which repository a `local:` include reads from: this one, or the project an include came from. */
export interface IncludeOrigin {
  readonly sources: CiSources;
  readonly key: string;
}

/** What composing one config collects as it reads its files. */
export interface IncludeState {
  readonly problems: CiProblem[];
  /** For each top-level key, the files that write it, the including file last. */
  readonly origins: Map<string, CiFile[]>;
  /** The files (and inputs) read so far. */
  readonly seen: Set<string>;
  /** Whether any file writes `!reference` (only then is the config walked to resolve them). */
  references: boolean;
  readonly context: IncludeContext | undefined;
  readonly missing: MissingInclude[];
  /** Includes that failed (bad inputs): what they would define is missing too. */
  readonly unusable: { readonly what: string; readonly location: SourceLocation }[];
  readonly notes: string[];
}
