import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderOverlay } from '../src/adapters/kustomize/render-overlay.js';
import { SHIPWAY_VERSION } from '../src/version.js';
import { interpolate, loadComponent, resolveInputs } from './support/component-inputs.js';
import { readFixture } from './support/fixtures.js';
import { git, REPO_ROOT } from './support/git-fixture.js';
import { createServices, run, write } from './support/init-services.js';

// `shipway init` as a team would use it: shipway packed once (npm pack -w shipway), installed
// from the tarball next to each service's own dependencies from the npm registry, and run with
// npx in three services (support/init-services.ts): an Express 4 app like the original, a
// TypeScript Fastify app with a build step, and a plain node:http app without a lockfile or a remote.

/** Each test runs several real processes (npx, npm, tsc, kustomize) on a shared 2-core machine. */
const SLOW = { timeout: 180_000 };

const npx = (cwd: string, ...args: string[]) => run(cwd, 'npx', ['--no-install', 'shipway', ...args]);
const read = (dir: string, path: string) => readFileSync(join(dir, path), 'utf8');
const yaml = (dir: string, path: string) => parse(read(dir, path));

let root: string;
let tarball: string;
const apps = { express: '', fastify: '', http: '' };

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shipway-init-'));
  const services = await createServices(root, REPO_ROOT);
  tarball = services.tarball;
  Object.assign(apps, { express: services.express, fastify: services.fastify, http: services.http });
}, 300_000);

afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('the packed shipway package', SLOW, () => {
  it('installs and runs: npx shipway --help and --version, the library entry point, the component file', async () => {
    const help = await npx(apps.express, '--help');
    expect(help.code).toBe(0);
    for (const command of ['init', 'validate', 'lint', 'plan', 'run', 'promote', 'rollout', 'image', 'cluster'])
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect((await npx(apps.express, '--version')).stdout.trim()).toBe(SHIPWAY_VERSION);
    const library = await run(apps.express, 'node', [
      '--input-type=module',
      '-e',
      "const m = await import('shipway'); const { createRequire } = await import('node:module'); console.log(JSON.stringify({ api: Object.keys(m).sort(), component: createRequire(process.cwd() + '/').resolve('shipway/templates/deliver.yml') }))",
    ]);
    expect(library.code, library.stderr).toBe(0);
    const { api, component } = JSON.parse(library.stdout);
    expect(api).toEqual(expect.arrayContaining(['init', 'promote', 'rollback', 'status', 'validate', 'ShipwayError']));
    // The component in the package is the canonical one at the repository root, byte for byte.
    expect(readFileSync(component, 'utf8')).toBe(read(REPO_ROOT, 'templates/deliver.yml'));
  });

  it('ships dist, schemas and templates and no tests, sources or source maps', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/bin/shipway.js',
        'package/dist/cli/main.js',
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/schemas/argo-rollouts/rollout-crd.yaml',
        'package/templates/deliver.yml',
      ]),
    );
    expect(files.filter((file) => /\.test\.|\.map$|tsbuildinfo|^package\/(src|test)\//.test(file))).toEqual([]);
    const manifest = JSON.parse(execFileSync('tar', ['xzfO', tarball, 'package/package.json'], { encoding: 'utf8' }));
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toBe(SHIPWAY_VERSION);
  });

  it('declares every package its code imports (a monorepo hoists what an install would lack)', () => {
    const manifest = JSON.parse(execFileSync('tar', ['xzfO', tarball, 'package/package.json'], { encoding: 'utf8' }));
    const unpacked = join(root, 'unpacked');
    mkdirSync(unpacked, { recursive: true });
    execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
    const dist = join(unpacked, 'package', 'dist');
    const code = readdirSync(dist, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.js'))
      .map((path) => readFileSync(join(dist, path), 'utf8'))
      .join('\n');
    const specifiers = [
      ...code.matchAll(/^\s*(?:import|export)\s(?:[^'";]*\sfrom\s)?\s*['"]([^'"\s]+)['"]/gm),
      ...code.matchAll(/\bimport\(\s*['"]([^'"\s]+)['"]\s*\)/g),
    ].map((match) => match[1] ?? '');
    const imported = new Set(
      specifiers
        .filter((name) => !name.startsWith('.') && !name.startsWith('node:') && name !== manifest.name)
        .map((name) =>
          name
            .split('/')
            .slice(0, name.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    );
    expect([...imported].filter((name) => !(name in manifest.dependencies)).sort()).toEqual([]);
    expect(imported).toContain('fastify');
  });
});

describe('npx shipway init --yes', SLOW, () => {
  it('an Express 4 app like the original: node index.js, listen(8080), no build step', async () => {
    const dir = apps.express;
    const init = await npx(dir, 'init', '--yes');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^ +app +hello-express +package\.json name "hello-express"$/m);
    expect(init.stdout).toMatch(/^ +start +node index\.js +package\.json scripts\.start/m);
    expect(init.stdout).toMatch(/^ +port +8080 +index\.js: listen\(8080\)$/m);
    expect(init.stdout).toMatch(/^ +build +\(none\)/m);
    const config = yaml(dir, 'shipway.yaml');
    expect(config).toMatchObject({
      app: 'hello-express',
      image: { name: 'hello-express', repository: '${AWS_REPOSITORY:-127.0.0.1:5000/hello-express}' },
      build: { context: '.', output: '.', inputs: ['index.js', 'package-lock.json', 'package.json'] },
      git: { remote: 'origin' },
    });
    expect(config.environments).toEqual([
      expect.objectContaining({ name: 'dev', branch: 'dev', gate: 'auto', namespace: 'hello-express-dev' }),
      expect.objectContaining({ name: 'stage', from: 'dev', gate: 'auto' }),
      expect.objectContaining({
        name: 'prod',
        from: 'stage',
        gate: 'manual',
        rollout: { name: 'hello-express', strategy: 'canary' },
      }),
    ]);
    const ci = yaml(dir, '.gitlab-ci.yml');
    expect(Object.keys(ci)).toEqual(['include']);
    expect(ci.include).toEqual([
      expect.objectContaining({ component: `$CI_SERVER_FQDN/acme/shipway/deliver@${SHIPWAY_VERSION}` }),
    ]);
    expect(ci.include[0].inputs).toMatchObject({
      app: 'hello-express',
      canary: true,
      'build-script': ['npm ls --omit=dev'],
    });
    expect(yaml(dir, 'deployment/argocd/applicationset.yaml').spec.template.spec.source.repoURL).toBe(
      'https://gitlab.example.com/acme/hello-express.git',
    );
    const validate = await npx(dir, 'validate');
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toContain('ok      Rollout/hello-express');
  });

  it('overlays: dev and stage roll out at once, prod runs the canary with its analysis', async () => {
    interface Rendered {
      kind: string;
      spec: { strategy: { canary: { steps: object[] } }; template: { spec: { containers: object[] } } };
    }
    const rollout = async (env: string) =>
      ((await renderOverlay(join(apps.express, 'deployment', env), process.env.PATH)) as Rendered[]).find(
        (object) => object.kind === 'Rollout',
      );
    expect((await rollout('dev'))?.spec.strategy.canary.steps).toEqual([]);
    expect((await rollout('stage'))?.spec.strategy.canary.steps).toEqual([]);
    const prod = await rollout('prod');
    expect(prod?.spec.strategy.canary.steps.map((step) => Object.keys(step)[0])).toEqual([
      'setWeight',
      'pause',
      'setWeight',
      'pause',
      'analysis',
      'setWeight',
    ]);
    expect(prod?.spec.template.spec.containers[0]).toMatchObject({
      image: 'hello-express',
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'PORT', value: '8080' }],
      readinessProbe: { httpGet: { path: '/', port: 'http' } },
    });
  });

  it('the daemonless image of the no-build app ships its sources and starts node index.js', async () => {
    const build = await npx(apps.express, 'image', 'build', '--base', 'host', '--json');
    expect(build.code, build.stderr).toBe(0);
    const result = JSON.parse(build.stdout);
    const blob = (digest: string) => join(apps.express, '.shipway/oci/blobs/sha256', digest.replace('sha256:', ''));
    const manifest = JSON.parse(readFileSync(blob(result.digest), 'utf8'));
    const config = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8'));
    expect(config.config.Cmd).toEqual(['node', 'index.js']);
    const app = result.layers.find((layer: { createdBy: string }) => layer.createdBy === 'shipway: app');
    const entries = execFileSync('tar', ['tzf', blob(app.digest)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(entries).toEqual(['app', 'app/index.js', 'app/package-lock.json', 'app/package.json']);
  });

  it('a TypeScript Fastify app with a build step: tsc → dist/server.js, PORT ?? 3000, /healthz and /readyz', async () => {
    const dir = apps.fastify;
    expect((await run(dir, 'npm', ['run', 'build'])).code).toBe(0);
    expect(read(dir, 'dist/server.js')).toContain('app.listen');
    const init = await npx(dir, 'init', '--yes', '--dockerfile');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^ +port +3000 +src\/server\.ts: PORT \?\? 3000$/m);
    expect(init.stdout).toMatch(/^ +health +liveness \/healthz, readiness \/readyz +src\/server\.ts$/m);
    expect(yaml(dir, 'shipway.yaml')).toMatchObject({
      app: 'orders-api',
      build: { context: '.', output: 'dist', inputs: ['package-lock.json', 'package.json', 'src', 'tsconfig.json'] },
    });
    const rollout = yaml(dir, 'deployment/base/rollout.yaml');
    expect(rollout.spec.template.spec.containers[0]).toMatchObject({
      ports: [{ name: 'http', containerPort: 3000, protocol: 'TCP' }],
      env: [{ name: 'PORT', value: '3000' }],
      readinessProbe: { httpGet: { path: '/readyz' } },
      livenessProbe: { httpGet: { path: '/healthz' } },
    });
    expect(yaml(dir, '.gitlab-ci.yml').include[0]).toMatchObject({
      component: `$CI_SERVER_FQDN/acme/shipway/deliver@${SHIPWAY_VERSION}`,
      inputs: { app: 'orders-api', 'build-script': ['npm run build', 'npm test'] },
    });
    const dockerfile = read(dir, 'Dockerfile');
    for (const line of [
      'RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund',
      'RUN npm run build',
      'COPY --from=build /app/dist ./dist',
      'USER 1000:1000',
      'EXPOSE 3000',
      'CMD ["node","dist/server.js"]',
    ])
      expect(dockerfile).toContain(line);
    expect(read(dir, '.dockerignore')).toMatch(/^\*\*\/node_modules$/m);
    expect((await npx(dir, 'validate')).code).toBe(0);
  });

  it('a plain node:http app without a lockfile or a remote: says so, creates the lockfile, writes placeholders', async () => {
    const dir = apps.http;
    const init = await npx(dir, 'init', '--yes');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^ +run +npm install --package-lock-only/m);
    expect(init.stdout).toContain('no package-lock.json: `npm install --package-lock-only` creates it');
    expect(init.stdout).toContain('no Git remote named origin');
    expect(init.stdout).toMatch(/^ +port +9000 +server\.js: PORT \|\| 9000$/m);
    expect(JSON.parse(read(dir, 'package-lock.json')).packages['']).toMatchObject({ name: 'plain-http' });
    expect(yaml(dir, '.gitlab-ci.yml').include[0].component).toBe(
      `$CI_SERVER_FQDN/REPLACE-ME/shipway/deliver@${SHIPWAY_VERSION}`,
    );
    expect((await npx(dir, 'validate')).code).toBe(0);
  });

  it('prints the next steps: the group variables and what replaces each, Argo CD, and npx shipway run', async () => {
    const init = await npx(apps.express, 'init', '--yes', '--force', '--dry-run', '--json');
    const { nextSteps } = JSON.parse(init.stdout);
    const text = nextSteps.join('\n');
    for (const original of [
      'AWS_ACCESS_KEY_ID',
      'AWS_DEFAULT_REGION',
      'AWS_REPOSITORY',
      'KUBE_CONFIG',
      'CI_PUSH_TOKEN',
    ])
      expect(text).toContain(original);
    expect(text).toContain('kubectl apply -n argocd -f deployment/argocd/applicationset.yaml');
    expect(text).toContain('npx shipway run');
  });
});

describe('init is idempotent and never overwrites without --force', SLOW, () => {
  it('a second run is a no-op; a changed file refuses the run (exit 4, nothing written) until --force', async () => {
    const dir = apps.express;
    const again = await npx(dir, 'init', '--yes');
    expect([again.code, again.stdout]).toEqual([0, 'nothing to do: every file is already as shipway init writes it\n']);
    const edited = `${read(dir, 'deployment/base/rollout.yaml')}# a local change\n`;
    writeFileSync(join(dir, 'deployment/base/rollout.yaml'), edited);
    rmSync(join(dir, '.dockerignore'));
    const refused = await npx(dir, 'init', '--yes');
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/^ +would overwrite +deployment\/base\/rollout\.yaml +exists and differs$/m);
    expect(refused.stdout).toMatch(/^ +create +\.dockerignore$/m);
    expect(refused.stdout).toMatch(/^ +unchanged +shipway\.yaml$/m);
    expect(refused.stderr).toContain('nothing was written');
    expect(read(dir, 'deployment/base/rollout.yaml')).toBe(edited);
    expect(() => read(dir, '.dockerignore')).toThrow();
    const forced = await npx(dir, 'init', '--yes', '--force');
    expect(forced.code).toBe(0);
    expect(read(dir, 'deployment/base/rollout.yaml')).not.toContain('# a local change');
    expect((await npx(dir, 'init', '--yes')).stdout).toContain('nothing to do');
  });
});

describe('the deliver CI/CD component (templates/deliver.yml)', SLOW, () => {
  const text = read(REPO_ROOT, 'templates/deliver.yml');
  const component = loadComponent(text);
  const schema = JSON.parse(readFixture('schemas/gitlab-ci.json'));
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);

  it('is a spec:inputs header, ---, and a config; both validate against GitLab’s CI schema', () => {
    const [header] = text.split(/^---$/m);
    expect(validate(parse(header ?? '')) ? [] : validate.errors).toEqual([]);
    const { values, problems } = resolveInputs(component.inputs, { app: 'hello' });
    expect(problems).toEqual([]);
    expect(validate(interpolate(component.config, values)) ? [] : validate.errors).toEqual([]);
  });

  it('the schema check can fail: a misspelt keyword in the component is caught', () => {
    const broken = loadComponent(text.replace('resource_group: deploy-', 'resource_grup: deploy-'));
    const { values } = resolveInputs(broken.inputs, { app: 'hello' });
    expect(validate(interpolate(broken.config, values))).toBe(false);
  });

  it('the include init writes passes only declared inputs of the right type and form', () => {
    for (const dir of Object.values(apps)) {
      const include = yaml(dir, '.gitlab-ci.yml').include[0];
      const { values, problems } = resolveInputs(component.inputs, include.inputs);
      expect([dir, problems]).toEqual([dir, []]);
      expect(validate(interpolate(component.config, values)) ? [] : validate.errors).toEqual([]);
    }
    expect(resolveInputs(component.inputs, { app: 'Bad_Name', canary: 'yes' }).problems).toEqual([
      'app: "Bad_Name" does not match ^[a-z]([-a-z0-9]*[a-z0-9])?$',
      'canary: string, not boolean',
    ]);
  });

  it('is versioned with the package: the default tool image is shipway:<version>', () => {
    expect(JSON.parse(read(REPO_ROOT, 'shipway/package.json')).version).toBe(SHIPWAY_VERSION);
    expect(component.inputs['shipway-image']?.default).toBe(`registry.example.com/shipway/shipway:${SHIPWAY_VERSION}`);
  });

  // parallel:matrix over the environments input (docs: ci/yaml "parallel:matrix"): one deploy job
  // per environment, each in its own branch's pipeline.
  it('each environment branch plans its own deploy job; prod adds the manual canary jobs; a feature branch and a tag only build', async () => {
    const dir = join(root, 'component-plan');
    const { values } = resolveInputs(component.inputs, { app: 'hello' });
    write(dir, { '.gitlab-ci.yml': JSON.stringify(interpolate(component.config, values)) });
    git(dir, 'init', '--quiet', '--initial-branch=main');
    const jobs = async (ref: string, kind = '--ref') => {
      const bin = join(apps.express, 'node_modules/.bin/shipway');
      const plan = JSON.parse((await run(dir, bin, ['plan', kind, ref, '--json'])).stdout);
      return plan.stages.flatMap((stage: { jobs: { name: string; when: string }[] }) =>
        stage.jobs.map((job) => `${job.name} (${job.when})`),
      );
    };
    expect(await jobs('dev')).toEqual(['build (on_success)', 'publish (on_success)', 'deploy: [dev] (on_success)']);
    expect(await jobs('stage')).toEqual(['build (on_success)', 'deploy: [stage] (on_success)']);
    expect(await jobs('prod')).toEqual([
      'build (on_success)',
      'deploy: [prod] (manual)',
      'promote-prod (manual)',
      'rollback-prod (manual)',
    ]);
    // No environment's branch: the pipeline tests the change and deploys nothing.
    expect(await jobs('feature/login')).toEqual(['build (on_success)']);
    expect(await jobs('v1.0.0', '--tag')).toEqual(['build (on_success)']);
  });

  // The include init writes names shipway's own component (deliver in <group>/shipway): the
  // installed package resolves it with its spec:inputs, offline and with no include directory.
  it('npx shipway lint passes on what init wrote', async () => {
    const dir = apps.express;
    const lint = await npx(dir, 'lint');
    expect(lint.stdout).toContain('0 error(s)');
    expect(lint.stdout).toContain('planned dev (3 jobs), stage (2 jobs), prod (4 jobs)');
    expect(lint.code).toBe(0);
    const plan = await npx(dir, 'plan', '--ref', 'dev', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/shipway's own component, read from the installed shipway/);
    const jobs = JSON.parse(plan.stdout).stages.flatMap((stage: { jobs: { name: string }[] }) =>
      stage.jobs.map((job) => job.name),
    );
    expect(jobs).toEqual(['build', 'publish', 'deploy: [dev]']);
  });
});
