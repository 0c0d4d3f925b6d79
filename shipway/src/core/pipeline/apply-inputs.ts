import type { IncludeState } from './ci-model.js';
import type { CiFile, CiMap, SourceLocation } from './ci-yaml.js';
import { interpolateConfig } from './interpolate-inputs.js';
import { resolveInputs } from './spec-inputs.js';

export interface GivenInputs {
  /** `include:inputs`, or for the main file the pipeline's inputs. */
  readonly given: CiMap | undefined;
  /** Where the values were given: the include entry (the main file: undefined, its spec lines). */
  readonly at: (() => SourceLocation) | undefined;
  readonly component?: Readonly<Record<string, string>> | undefined;
}

/**
 * The file's configuration with its `spec:inputs` interpolated (Yaml::Loader: header, then
 * content). A problem with a given value is reported where it was given (the include entry); one
 * with the header itself (a default of the wrong type, an unknown type), or with the main file's
 * inputs, at the input's line in the header. A file whose inputs fail contributes nothing, as on
 * GitLab, where the include fails as a whole; `state.unusable` lets what depended on it be
 * reported once.
 */
export function applyInputs(file: CiFile, inputs: GivenInputs, state: IncludeState): CiMap {
  const given = inputs.given;
  const fail = (message: string, location: SourceLocation): CiMap => {
    state.problems.push({ message, location });
    state.unusable.push({ what: file.file, location });
    return {};
  };
  if (file.header === undefined) {
    if (given === undefined || Object.keys(given).length === 0) return file.value;
    return fail(
      `include: ${file.file}: inputs are given, but the file has no spec:inputs header to declare them`,
      inputs.at?.() ?? { file: file.file, line: 1 },
    );
  }
  const specLine = (input: string | undefined): SourceLocation => ({
    file: file.file,
    line: (input === undefined ? undefined : file.inputLine(input)) ?? file.topLine('spec') ?? 1,
  });
  const { values, problems } = resolveInputs(file.header, given);
  const prefix = inputs.at === undefined ? 'spec:inputs: ' : `include: ${file.file}: `;
  for (const problem of problems) {
    const at = problem.inSpec || inputs.at === undefined ? specLine(problem.input) : inputs.at();
    state.problems.push({ message: `${prefix}${problem.message}`, location: at });
  }
  if (problems.length > 0) {
    state.unusable.push({ what: file.file, location: inputs.at?.() ?? specLine(undefined) });
    return {};
  }
  const interpolated = interpolateConfig(file.value, {
    inputs: values,
    component: inputs.component,
    variables: state.context?.variables ?? { get: () => undefined },
  });
  if (interpolated.problems.length > 0)
    return fail(`${prefix}${interpolated.problems.join(', ')}`, inputs.at?.() ?? { file: file.file, line: 1 });
  return interpolated.value;
}
