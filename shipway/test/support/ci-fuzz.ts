import { dump } from 'js-yaml';

// Generated GitLab CI configs for fuzzing the planner: random trees of GitLab's keywords with
// values of the right and the wrong types, expressions (valid and broken), includes of every kind
// (some present, some missing, some hostile paths), spec:inputs headers and $[[ ]] blocks,
// parallel and matrix, !reference tags, deep nesting and mangled YAML text. Deterministic: the
// same seed gives the same configs.

/** mulberry32: a small, fast, seeded PRNG. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JOB_KEYS = [
  'script',
  'stage',
  'rules',
  'needs',
  'dependencies',
  'extends',
  'parallel',
  'trigger',
  'when',
  'start_in',
  'allow_failure',
  'only',
  'except',
  'variables',
  'environment',
  'inherit',
  'image',
  'before_script',
  'artifacts',
  'cache',
  'tags',
  'resource_group',
  'run',
];
const TOP_KEYS = [
  'stages',
  'variables',
  'workflow',
  'default',
  'include',
  'image',
  'services',
  'cache',
  'before_script',
];
const STAGES = ['build', 'test', 'deploy', '.pre', '.post', 'nope', ''];
const EXPRESSIONS = [
  '$CI_COMMIT_BRANCH == "main"',
  '$CI_PIPELINE_SOURCE == "merge_request_event"',
  '$CI_COMMIT_TAG',
  '$CI_JOB_NAME =~ $PATTERN',
  '$CI_JOB_STAGE == "deploy" && $X != null',
  '$CI_COMMIT_BRANCH =~ /^feat/i || ($A && $B)',
  '$X =~ "/(/"',
  '$X =~ /(?=a)/',
  '$X =~ $UNDEFINED',
  '$X !~ "text"',
  '(($A',
  '$A ==',
  '== "b"',
  '$[[ inputs.cond ]]',
  '$CI_COMMIT_REF_PROTECTED == "true"',
  '$X =~ /a{1000}/',
];
const STRINGS = [
  'main',
  'build',
  'test',
  'deploy: [a]',
  'job 1/2',
  '$[[ inputs.name ]]',
  '$[[ inputs.name | truncate(1,3) ]]',
  '$[[ inputs.missing ]]',
  '$[[ inputs.list | expand_vars | posix_escape ]]',
  '$[[ matrix.X ]]',
  '$[[ x ]]',
  '$VAR$VAR$VAR',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CI variable reference, not a template
  '${CI_COMMIT_REF_SLUG}',
  '30 minutes',
  'always',
  'manual',
  'never',
  'delayed',
  '',
  '../outside.yml',
  '/etc/passwd',
  'ci/*.yml',
  'ci/a.yml',
  'https://example.com/ci.yml',
  '$CI_SERVER_FQDN/acme/ci/build@1.0',
  '$CI_SERVER_FQDN/acme/shipway/deliver@0.1.0',
  'gitlab.com/../../x@1',
  'Jobs/Build.gitlab-ci.yml',
];

export interface FuzzCase {
  readonly text: string;
  /** Other files of the repository (local includes). */
  readonly files: Readonly<Record<string, string>>;
}

export function generateCase(seed: number): FuzzCase {
  const rand = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const chance = (p: number) => rand() < p;
  const jobNames = Array.from(
    { length: 1 + Math.floor(rand() * 6) },
    (_, i) => pick(['build', 'test', 'lint', 'deploy', '.tpl', 'job']) + i,
  );
  const scalar = (): unknown => {
    const roll = rand();
    if (roll < 0.45) return pick([...STRINGS, ...jobNames, ...EXPRESSIONS]);
    if (roll < 0.6) return Math.floor(rand() * 400) - 10;
    if (roll < 0.7) return chance(0.5);
    if (roll < 0.78) return null;
    return pick(jobNames);
  };
  const value = (depth: number): unknown => {
    const roll = rand();
    if (depth > 4 || roll < 0.45) return scalar();
    if (roll < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const out: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 4); i > 0; i -= 1)
      out[
        pick([
          ...JOB_KEYS,
          'if',
          'job',
          'matrix',
          'optional',
          'local',
          'project',
          'file',
          'component',
          'inputs',
          'exit_codes',
          'include',
          'name',
          'project',
          'X',
        ])
      ] = value(depth + 1);
    return out;
  };
  const tools: Tools = { tidy: chance(0.5), rand, pick, chance, value, jobNames };
  const config: Record<string, unknown> = {};
  for (const key of TOP_KEYS) if (chance(0.25)) config[key] = topValue(key, tools);
  if (tools.tidy) config.stages = ['build', 'test', 'deploy'];
  for (const name of jobNames) config[name] = job(tools);
  if (chance(0.05)) config.deep = nest(20 + Math.floor(rand() * 120));
  let text = dump(config, { skipInvalid: true, noRefs: true, lineWidth: -1 });
  if (chance(0.15)) text = `${header(pick, chance)}---\n${text}`;
  if (chance(0.08)) text = text.replace(/script:/, 'script: !reference [.tpl0, script]\n  x:');
  if (chance(0.07)) text = mangle(text, rand);
  const files: Record<string, string> = {};
  if (chance(0.3)) files['ci/a.yml'] = dump({ [pick(jobNames)]: job(tools) }, { skipInvalid: true });
  if (chance(0.2)) files['ci/b.yml'] = `${header(pick, chance)}---\nincluded-$[[ inputs.name ]]:\n  script: [x]\n`;
  return { text, files };
}

interface Tools {
  /** Half the configs are mostly valid (so rules, needs and children are planned), half chaos. */
  readonly tidy: boolean;
  readonly rand: () => number;
  readonly pick: <T>(list: readonly T[]) => T;
  readonly chance: (p: number) => boolean;
  readonly value: (depth: number) => unknown;
  readonly jobNames: readonly string[];
}

function topValue(key: string, t: Tools): unknown {
  switch (key) {
    case 'stages':
      return t.chance(0.8) ? STAGES.filter(() => t.chance(0.6)) : t.value(0);
    case 'workflow':
      return { rules: [{ if: t.pick(EXPRESSIONS), when: t.pick(['always', 'never', 'manual']) }, { when: 'always' }] };
    case 'include':
      return Array.from({ length: 1 + Math.floor(t.rand() * 3) }, () => includeEntry(t));
    default:
      return t.value(1);
  }
}

function includeEntry(t: Tools): unknown {
  const roll = t.rand();
  if (roll < 0.2) return t.pick(STRINGS);
  if (roll < 0.4)
    return {
      local: t.pick(['ci/a.yml', 'ci/b.yml', 'ci/*.yml', '../x.yml', 'missing.yml']),
      inputs: t.chance(0.5) ? { name: t.pick(STRINGS), cond: t.pick(EXPRESSIONS) } : undefined,
    };
  if (roll < 0.55)
    return { component: t.pick(STRINGS), inputs: t.chance(0.6) ? { app: 'x', name: t.value(2) } : t.value(2) };
  if (roll < 0.65)
    return {
      project: t.pick(['acme/ci', '../../x', 'a']),
      file: t.chance(0.7) ? t.pick(STRINGS) : [t.pick(STRINGS), 3],
      ref: t.pick(['main', '../../..', undefined]),
    };
  if (roll < 0.75) return { remote: t.pick(STRINGS), integrity: t.pick(['sha256-AAAA', undefined]) };
  if (roll < 0.85) return { template: t.pick(STRINGS), rules: [{ if: t.pick(EXPRESSIONS) }, { exists: ['*.yml'] }] };
  return t.value(2);
}

function job(t: Tools): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.chance(0.85)) out.script = t.chance(0.9) ? ['echo $CI_JOB_NAME'] : t.value(2);
  for (const key of JOB_KEYS) {
    if (!t.chance(0.18)) continue;
    out[key] = jobValue(key, t);
  }
  return out;
}

function jobValue(key: string, t: Tools): unknown {
  if (t.chance(t.tidy ? 0.02 : 0.15)) return t.value(1);
  switch (key) {
    case 'stage':
      return t.tidy ? t.pick(['build', 'test', 'deploy']) : t.pick(STAGES);
    case 'when':
      return t.tidy ? t.pick(['on_success', 'manual', 'always', 'on_failure']) : t.pick(STRINGS);
    case 'start_in':
    case 'only':
    case 'except':
      return t.tidy ? undefined : t.value(1);
    case 'rules':
      return Array.from({ length: Math.floor(t.rand() * 3) }, () => ({
        if: t.pick(EXPRESSIONS),
        when: t.pick(['always', 'never', 'manual', 'delayed', 'on_failure', undefined]),
        start_in: t.chance(0.2) ? '1 hour' : undefined,
        needs: t.chance(0.1) ? [t.pick(t.jobNames)] : undefined,
        variables: t.chance(0.2) ? { PATTERN: '/^b/' } : undefined,
      }));
    case 'needs':
    case 'dependencies':
      return t.jobNames
        .filter(() => t.chance(0.3))
        .map((name) =>
          t.chance(0.3)
            ? {
                job: name,
                optional: t.chance(0.5),
                parallel: t.chance(0.2) ? { matrix: [{ X: ['a', 'b'] }] } : undefined,
              }
            : name,
        );
    case 'extends':
      return t.chance(0.7) ? t.pick(t.jobNames) : [t.pick(t.jobNames), '.missing'];
    case 'parallel':
      return t.chance(0.4)
        ? Math.floor(t.rand() * 250)
        : { matrix: [{ X: ['a', 'b', 'c'].slice(0, 1 + Math.floor(t.rand() * 3)), Y: t.chance(0.5) ? '1' : [1, 2] }] };
    case 'trigger':
      return t.chance(0.5)
        ? { include: t.pick(['ci/a.yml', 'ci/b.yml', [{ artifact: 'x.yml', job: 'gen' }], 'missing.yml']) }
        : { project: 'acme/other', branch: 'main' };
    case 'allow_failure':
      return t.chance(0.5) ? t.chance(0.5) : { exit_codes: t.chance(0.5) ? [1, 137] : 42 };
    case 'variables':
      return { PATTERN: t.pick(['/^build/', '"x"', '$PATTERN$PATTERN']), X: t.tidy ? 'x' : t.value(3) };
    case 'environment':
      return t.chance(0.5) ? 'review/$CI_COMMIT_REF_SLUG' : { name: t.pick(STRINGS), action: 'stop' };
    default:
      return t.value(1);
  }
}

function header(pick: <T>(list: readonly T[]) => T, chance: (p: number) => boolean): string {
  const type = pick(['string', 'number', 'boolean', 'array', 'bogus']);
  return `spec:
  inputs:
    name:
      type: ${type}
${chance(0.6) ? `      default: ${pick(['x', '1', 'true', '[a, b]', '{a: 1}'])}\n` : ''}${chance(0.3) ? '      regex: ^[a-z]+$\n' : ''}${chance(0.2) ? '      options: [a, b]\n' : ''}    cond:
      default: '$CI_COMMIT_BRANCH'
    list:
      type: array
      default: [a]
`;
}

function nest(depth: number): unknown {
  let out: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) out = i % 2 === 0 ? [out] : { k: out };
  return out;
}

/** Text damage: a line dropped, a character replaced, the text cut short. */
function mangle(text: string, rand: () => number): string {
  const position = Math.floor(rand() * text.length);
  const roll = rand();
  if (roll < 0.33) return text.slice(0, position);
  if (roll < 0.66)
    return `${text.slice(0, position)}${String.fromCharCode(32 + Math.floor(rand() * 95))}${text.slice(position + 1)}`;
  return text
    .split('\n')
    .filter(() => rand() > 0.1)
    .join('\n');
}
