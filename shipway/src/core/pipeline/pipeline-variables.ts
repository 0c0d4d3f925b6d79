import { ConfigError } from '../errors.js';
import type { Variables } from './ci-expression.js';
import { type CiProblem, type CiValue, formatLocation, isCiMap, type SourceLocation } from './ci-yaml.js';
import { expandVariables } from './predefined-variables.js';
import { MAX_YAML_SIZE_BYTES } from './yaml-limits.js';

/** One variable as written: its value, whether `$` references in it expand, and where it is written. */
export interface RawVariable {
  readonly value: string;
  readonly expand: boolean;
  /** Where the variable `name` (this one) is written; shared by a whole map, asked only on an error. */
  readonly locate: (name: string) => SourceLocation;
}
export type RawVariables = Map<string, RawVariable>;

/** One layer of variables: a map, or something that answers like one without being built. */
export interface VariableLayer {
  get(name: string): RawVariable | undefined;
  keys(): Iterable<string>;
}

/** Variable layers, later ones winning as GitLab's precedence does; looked up, never copied. */
export type Layers = readonly VariableLayer[];

/**
 * How many characters expanding one set of variables may produce. GitLab refuses a config file
 * larger than max_yaml_size_bytes (2 MB by default since 17.3), so no value GitLab accepts
 * written out in full is longer; `$V1$V1…` nested a dozen times would otherwise grow to
 * gigabytes from a few hundred bytes.
 */
export const MAX_EXPANDED_CHARACTERS = MAX_YAML_SIZE_BYTES;

/** Expanding a variable went past MAX_EXPANDED_CHARACTERS: a config error at the variable's line. */
export class VariableExpansionError extends ConfigError {
  constructor(
    readonly variable: string,
    readonly location: SourceLocation,
  ) {
    const limit = `${MAX_EXPANDED_CHARACTERS / 1024 / 1024} MiB`;
    super(
      'CI_VARIABLE_TOO_LARGE',
      `${formatLocation(location)}: variable ${variable}: expanding its references produces more than ${limit}`,
      {
        hint: 'a variable that references others is expanded in full; write the value out, or reference fewer times',
      },
    );
  }

  get problem(): CiProblem {
    return {
      message: `variable ${this.variable}: expands to more than ${MAX_EXPANDED_CHARACTERS / 1024 / 1024} MiB`,
      location: this.location,
    };
  }
}

/**
 * A `variables:` map as name → raw value; `{value, expand: false}` values keep their `$`. A list
 * or a map as the value is an error, as on GitLab ("variable definition must be either a string
 * or a hash", Ci::Config::Entry::Variable), never text made of it: a list is where an alias bomb
 * hides. (true, false and null still read as text.)
 */
export function variablesOf(
  value: CiValue | undefined,
  locate: (name: string) => SourceLocation,
  problems: CiProblem[],
): RawVariables {
  const out: RawVariables = new Map();
  if (!isCiMap(value)) return out;
  for (const [name, entry] of Object.entries(value)) {
    const raw = isCiMap(entry) ? entry.value : entry;
    if (raw !== null && raw !== undefined && typeof raw === 'object') {
      problems.push({
        message: `variables: ${name}: a variable's value must be a string or a number, not a ${Array.isArray(raw) ? 'list' : 'map'}`,
        location: locate(name),
      });
      continue;
    }
    out.set(name, {
      value: raw === null || raw === undefined ? '' : String(raw),
      expand: !isCiMap(entry) || entry.expand !== false,
      locate,
    });
  }
  return out;
}

/** Values that come from outside the file (predefined, --var): expanded, located at their source. */
export function rawOf(values: ReadonlyMap<string, string>, source: string): RawVariables {
  const locate = () => ({ file: source, line: 0 });
  return new Map([...values].map(([name, value]) => [name, { value, expand: true, locate }]));
}

function lookup(layers: Layers, name: string): RawVariable | undefined {
  for (let index = layers.length - 1; index >= 0; index -= 1) {
    const entry = layers[index]?.get(name);
    if (entry !== undefined) return entry;
  }
  return undefined;
}

/**
 * Values read with `$VAR` / `${VAR}` references expanded against the final set, so a project
 * variable that overrides a file variable changes every value built from it, as on GitLab.
 * Each value is expanded once (what it references is reused, not expanded again), a reference
 * that closes a cycle expands to nothing, and the characters expansion produces are counted:
 * past MAX_EXPANDED_CHARACTERS the variable being read is a VariableExpansionError.
 */
export class ExpandedVariables implements Variables {
  private readonly values = new Map<string, string>();
  private readonly expanding: string[] = [];
  private produced = 0;

  constructor(private readonly layers: Layers) {}

  get(name: string): string | undefined {
    const cached = this.values.get(name);
    if (cached !== undefined) return cached;
    const entry = lookup(this.layers, name);
    if (entry === undefined || this.expanding.includes(name)) return undefined;
    if (!entry.expand || !entry.value.includes('$')) {
      this.values.set(name, entry.value);
      return entry.value;
    }
    this.expanding.push(name);
    try {
      const value = expandVariables(entry.value, { get: (inner) => this.count(this.get(inner)) });
      this.values.set(name, value);
      return value;
    } finally {
      this.expanding.pop();
    }
  }

  /** Counts each value copied into another as it is copied; throws, for the outermost variable being read, once too much was. */
  private count<T extends string | undefined>(text: T): T {
    this.produced += text?.length ?? 0;
    if (this.produced > MAX_EXPANDED_CHARACTERS) {
      const outer = this.expanding[0] ?? '';
      const entry = lookup(this.layers, outer);
      throw new VariableExpansionError(outer, entry?.locate(outer) ?? { file: '', line: 0 });
    }
    return text;
  }

  toMap(): Map<string, string> {
    const names = new Set(this.layers.flatMap((layer) => [...layer.keys()]));
    return new Map([...names].map((name) => [name, this.get(name) ?? '']));
  }
}
