import type { CiSources, ExternalIncludes } from '../core/pipeline/ci-sources.js';
import type { CiMap, CiValue, SourceLocation } from '../core/pipeline/ci-yaml.js';
import { includeContextFor } from '../core/pipeline/include-context.js';
import { type CiConfig, loadChildConfig, loadCiConfig, type MainFile } from '../core/pipeline/load-ci-config.js';
import type { PipelineTrigger } from '../core/pipeline/predefined-variables.js';
import type { AppContext } from './context.js';
import { includeDirectory, pinnedCommits } from './include-directory.js';

/** Where includes from outside the repository are read: the include directory, and shipway's own component. */
export async function externalIncludes(
  context: AppContext,
  root: string,
  includeDir: string | undefined,
): Promise<ExternalIncludes> {
  const commits = await pinnedCommits(root, includeDir);
  return includeDirectory({ root, dir: includeDir, shipwayProject: context.env.SHIPWAY_COMPONENT_PROJECT, commits });
}

export interface LoadedPipeline {
  readonly config: CiConfig;
  /** Reads a trigger job's child pipeline config, for planPipeline. */
  readonly child: (include: CiValue, at: SourceLocation, variables: ReadonlyMap<string, string>) => CiConfig;
}

/** The config composed for one pipeline (include:rules and variables in includes depend on it). */
export function loadPipeline(
  sources: CiSources & { files(): readonly string[] },
  main: string | MainFile,
  pipeline: {
    readonly trigger: PipelineTrigger;
    readonly variables: ReadonlyMap<string, string>;
    readonly external: ExternalIncludes;
    readonly inputs?: CiMap | undefined;
    /** Read every include whatever its rules say (fetching). */
    readonly everyInclude?: boolean | undefined;
  },
): LoadedPipeline {
  const { trigger, variables, external } = pipeline;
  const include = includeContextFor(trigger, variables, sources.files, external, pipeline.everyInclude);
  const config = loadCiConfig(sources, main, { include, inputs: pipeline.inputs });
  const child = (entries: CiValue, at: SourceLocation, forwarded: ReadonlyMap<string, string>) =>
    loadChildConfig(sources, entries, at, {
      include: includeContextFor({ ...trigger, source: 'parent_pipeline' }, forwarded, sources.files, external),
    });
  return { config, child };
}
