import { UsageError } from '../errors.js';
import { DEFAULT_PORT } from './detect-project.js';
import type { InitChoices, InitSettings, ProjectFacts } from './init-facts.js';
import { REPO_URL_PLACEHOLDER } from './render-overlays.js';
import { APP_NAME, MAX_APP_NAME } from './sanitize-app-name.js';

/** Where the component lives when the remote names no group: to be replaced (init says so). */
export const COMPONENT_PLACEHOLDER = 'REPLACE-ME/shipway';

const PROJECT_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;

export interface ResolvedSettings {
  readonly settings: InitSettings;
  /** What a person should know or fix: defaults taken, placeholders written, mismatches found. */
  readonly notes: readonly string[];
}

function checkName(value: string, flag: string): string {
  if (!APP_NAME.test(value) || value.length > MAX_APP_NAME)
    throw new UsageError(
      'INIT_BAD_NAME',
      `${flag} ${JSON.stringify(value)} must be a DNS label of at most ${MAX_APP_NAME} characters that starts with a letter`,
      { hint: 'lower-case letters, digits and -, e.g. my-service' },
    );
  return value;
}

function componentProject(facts: ProjectFacts, choices: InitChoices, notes: string[]): string {
  if (choices.componentProject !== undefined) {
    if (!PROJECT_PATH.test(choices.componentProject))
      throw new UsageError(
        'INIT_BAD_COMPONENT',
        `--component ${JSON.stringify(choices.componentProject)} is not a GitLab project path`,
        { hint: 'the full path of the project that holds templates/deliver.yml, e.g. my-group/shipway' },
      );
    return choices.componentProject;
  }
  const group = facts.projectPath?.split('/').slice(0, -1).join('/');
  if (group !== undefined && group !== '') return `${group}/shipway`;
  notes.push(
    `.gitlab-ci.yml includes the component from ${COMPONENT_PLACEHOLDER}: set the path of your group's shipway project (or pass --component <group>/shipway)`,
  );
  return COMPONENT_PLACEHOLDER;
}

function port(facts: ProjectFacts, choices: InitChoices, notes: string[]): number {
  if (choices.port !== undefined) {
    if (!Number.isInteger(choices.port) || choices.port < 1 || choices.port > 65535)
      throw new UsageError('INIT_BAD_PORT', `port ${choices.port} is not a TCP port (1-65535)`);
    return choices.port;
  }
  if (facts.port !== null) return facts.port.value;
  notes.push(
    `no port found in the source (listen(<n>), PORT ?? <n>, PORT || <n>): assumed ${DEFAULT_PORT}; the manifests set PORT=${DEFAULT_PORT}, so read process.env.PORT or pass --port`,
  );
  return DEFAULT_PORT;
}

function startNotes(facts: ProjectFacts, output: string, notes: string[]): void {
  const entry = facts.start.value.entry;
  const imageStarts = facts.main ?? `${output}/server.js`;
  if (imageStarts.replace(/^\.\//, '') !== entry)
    notes.push(
      `shipway image build starts \`node ${imageStarts}\` (package.json main) but npm start runs ${entry}: set "main": ${JSON.stringify(entry)} in package.json`,
    );
  if (facts.health.value.liveness === '/')
    notes.push(
      'no /healthz, /health or /readyz route found: the probes request / (add a cheap health route and point the probes at it)',
    );
}

/** Facts plus choices, every value checked: the one input every generated file is rendered from. */
export function resolveSettings(facts: ProjectFacts, choices: InitChoices, version: string): ResolvedSettings {
  const notes: string[] = [];
  const app = checkName(choices.app ?? facts.app.value, choices.app === undefined ? 'app name' : '--name');
  if (choices.app === undefined && app !== facts.packageName)
    notes.push(`app name ${app} comes from ${facts.app.source}`);
  const namespacePrefix = checkName(choices.namespacePrefix ?? app, '--namespace-prefix');
  if (!facts.lockfile) notes.push('no package-lock.json: `npm install --package-lock-only` creates it (commit it)');
  let repoUrl = choices.repoUrl ?? facts.repoUrl;
  if (repoUrl === null || repoUrl === '') {
    notes.push(
      `no Git remote named origin: the ApplicationSet's repoURL is ${REPO_URL_PLACEHOLDER}; set it to this repository's URL`,
    );
    repoUrl = REPO_URL_PLACEHOLDER;
  }
  if (facts.remoteHadCredentials && choices.repoUrl === undefined)
    notes.push(
      'the origin remote URL carries credentials; they are left out of the ApplicationSet (give Argo CD a deploy token instead, and take the token out of the remote: git remote set-url origin <url>)',
    );
  startNotes(facts, facts.output, notes);
  return {
    settings: {
      app,
      namespacePrefix,
      port: port(facts, choices, notes),
      liveness: facts.health.value.liveness,
      readiness: facts.health.value.readiness,
      entry: facts.start.value.entry,
      args: facts.start.value.args,
      build: facts.build !== null,
      test: facts.test,
      output: facts.output,
      inputs: facts.inputs,
      nodeVersion: facts.nodeVersion.value,
      repoUrl,
      componentProject: componentProject(facts, choices, notes),
      version,
      canary: choices.canary,
      dockerfile: choices.dockerfile,
    },
    notes,
  };
}
