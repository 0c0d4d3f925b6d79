import type { IncludeContext } from './ci-model.js';
import type { ExternalIncludes } from './ci-sources.js';
import { ExpandedVariables, rawOf } from './pipeline-variables.js';
import { type PipelineTrigger, predefinedVariables } from './predefined-variables.js';

/**
 * What `include` sees (https://docs.gitlab.com/ci/yaml/includes/#use-variables-with-include):
 * the predefined variables and the project's (group, project, pipeline: `--var`), never the
 * file's own `variables:`, which are read after the includes.
 */
export function includeContextFor(
  trigger: PipelineTrigger,
  outside: ReadonlyMap<string, string>,
  files: () => readonly string[],
  external: ExternalIncludes | undefined,
  everyInclude = false,
): IncludeContext {
  const variables = new ExpandedVariables([
    rawOf(predefinedVariables(trigger), 'predefined variables'),
    rawOf(outside, '--var'),
  ]);
  return { variables, rules: { variables, trigger, files }, external, everyInclude };
}
