import type { ParallelInstance } from './ci-model.js';
import { type CiMap, type CiValue, isCiMap } from './ci-yaml.js';
import { SCRIPT_KEYS, scriptLines } from './script-lines.js';

/**
 * What a job declares it does to an environment, read from its definition, never from its name
 * (a job called `revert-prod` may promote; one called `deploy` may roll back).
 */
export interface IntentJob {
  readonly definition: CiMap;
  /** A `parallel:matrix` instance: its variables are the job's too. */
  readonly parallel?: ParallelInstance | null | undefined;
}

/**
 * The job variable a pipeline author sets to say what a job does when its script does not run
 * shipway directly: `deploy`, or `rollback` / `abort` for a job that undoes a release.
 */
export const ACTION_VARIABLE = 'SHIPWAY_ACTION';
const ROLLBACK_ACTIONS = new Set(['rollback', 'abort']);
const DEPLOY_ACTIONS = new Set(['deploy']);

/** The shipway commands that undo a release: `rollback <env>`, `rollout abort <env>`. */
const ROLLBACK_COMMANDS = new Set(['rollback', 'rollout abort']);
/** The shipway commands that change the image an environment's GitOps branch pins. */
const DEPLOY_COMMANDS = new Set(['promote', 'rollback']);

/** A job that undoes a release: `shipway run --yes` never approves it by itself. */
export function rollsBack(job: IntentJob): boolean {
  const action = declaredAction(job);
  if (action !== undefined && ROLLBACK_ACTIONS.has(action)) return true;
  return shipwayCommands(job.definition).some((command) => ROLLBACK_COMMANDS.has(command));
}

/**
 * A job that deploys: it declares an environment it starts (GitLab's default `environment:action`;
 * `prepare`, `verify` and `access` do not create a deployment and `stop` ends one, see
 * https://docs.gitlab.com/ci/yaml/#environmentaction), sets SHIPWAY_ACTION=deploy, or runs
 * `shipway promote` / `shipway rollback`.
 */
export function deploys(job: IntentJob): boolean {
  if (startsEnvironment(job.definition.environment)) return true;
  const action = declaredAction(job);
  if (action !== undefined && DEPLOY_ACTIONS.has(action)) return true;
  return shipwayCommands(job.definition).some((command) => DEPLOY_COMMANDS.has(command));
}

function startsEnvironment(environment: CiValue | undefined): boolean {
  if (typeof environment === 'string') return environment.trim() !== '';
  if (!isCiMap(environment) || typeof environment.name !== 'string' || environment.name.trim() === '') return false;
  return environment.action === undefined || environment.action === null || environment.action === 'start';
}

/**
 * The job variable that says the job's result depends only on the commit's tree and the job's
 * definition and variables (core/runner/result-key.ts): `SHIPWAY_REUSE: tree` lets `shipway run`
 * reuse an earlier pipeline's successful result instead of running it again. GitLab ignores it.
 * `shipway run` reads the job's final value (app/reuse-job.ts); lint reads what the job declares.
 */
export const REUSE_VARIABLE = 'SHIPWAY_REUSE';

/** SHIPWAY_REUSE as the job declares it (undefined when it does not). */
export const declaredReuse = (job: IntentJob) => declaredVariable(job, REUSE_VARIABLE);

/** SHIPWAY_ACTION as the job declares it (undefined when it does not). */
export const declaredAction = (job: IntentJob) => declaredVariable(job, ACTION_VARIABLE);

/** The SHIPWAY_ACTION values shipway acts on. */
export const KNOWN_ACTIONS: readonly string[] = [...DEPLOY_ACTIONS, ...ROLLBACK_ACTIONS];

/** A variable from the job's matrix instance, else its `variables:` (a string or `{ value: }`). */
function declaredVariable(job: IntentJob, name: string): string | undefined {
  const matrix = job.parallel?.variables?.get(name);
  if (matrix !== undefined) return matrix.trim();
  const variables = job.definition.variables;
  if (!isCiMap(variables)) return undefined;
  const value = variables[name];
  const text = isCiMap(value) ? value.value : value;
  return typeof text === 'string' ? text.trim() : undefined;
}

/**
 * The shipway commands a job's scripts run, as `verb` or `rollout <verb>`: `shipway …`,
 * `npx [options] shipway[@version] …`, `npm exec [--] shipway …` or a path ending in
 * `/shipway`, wherever a shell command starts (after `;`, `&&`, `||`, `|`, `then`, …).
 */
export function shipwayCommands(job: CiMap): string[] {
  const commands: string[] = [];
  for (const key of SCRIPT_KEYS)
    for (const line of scriptLines(job, key))
      for (const words of shellCommands(line)) {
        const args = shipwayArguments(words);
        if (args === undefined) continue;
        const [verb, sub] = args.filter((word) => !word.startsWith('-'));
        if (verb === undefined) continue;
        commands.push(verb === 'rollout' && sub !== undefined ? `rollout ${sub}` : verb);
      }
  return commands;
}

/** Words that may stand before the program a shell command runs. */
const PREFIX_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'do',
  'while',
  'until',
  '!',
  '{',
  'exec',
  'command',
  'time',
]);

/** The arguments after `shipway` when this command runs shipway, else undefined. */
function shipwayArguments(words: readonly string[]): string[] | undefined {
  let at = 0;
  const skip = (test: (word: string) => boolean) => {
    while (at < words.length && test(words[at] ?? '')) at++;
  };
  skip((word) => PREFIX_WORDS.has(word) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  if (words[at] === 'env') {
    at++;
    skip((word) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
  }
  if (words[at] === 'npx' || (words[at] === 'npm' && (words[at + 1] === 'exec' || words[at + 1] === 'x'))) {
    at += words[at] === 'npx' ? 1 : 2;
    // npx's own options; `-p`/`--package` take the next word.
    while (at < words.length && words[at]?.startsWith('-')) {
      const option = words[at];
      at += option === '-p' || option === '--package' ? 2 : 1;
      if (option === '--') break;
    }
  }
  const program = words[at];
  if (program === undefined || !/(^|\/)shipway(@[^/\s]*)?$/.test(program)) return undefined;
  return words.slice(at + 1);
}

/**
 * A POSIX shell line split into simple commands, each a list of words with quotes removed:
 * enough to find which program each command runs (no expansion, no here-documents).
 */
export function shellCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const char = line[i] ?? '';
    if (quote !== null) {
      if (char === quote) quote = null;
      else if (char === '\\' && quote === '"' && i + 1 < line.length) word = (word ?? '') + line[++i];
      else word = (word ?? '') + char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (char === '\\' && i + 1 < line.length) {
      const next = line[++i] ?? '';
      if (next !== '\n') word = (word ?? '') + next;
    } else if (/[\n;&|()`]/.test(char)) endCommand();
    else if (char === '#' && word === null) {
      while (i + 1 < line.length && line[i + 1] !== '\n') i++;
    } else if (/\s/.test(char)) endWord();
    else word = (word ?? '') + char;
  }
  endCommand();
  return commands;
}
