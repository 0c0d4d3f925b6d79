import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobPipeline, jobPipeline } from '../support/job-pipeline.js';

// Probes of the local runner (`shipway run`) from a careless or hostile job: the hard-linked
// cache, artifact paths that leave the workspace, and secrets in job logs.
const pipelines: JobPipeline[] = [];
const outsideDirs: string[] = [];
afterAll(() => {
  for (const pipeline of pipelines) pipeline.cleanup();
  for (const dir of outsideDirs) rmSync(dir, { recursive: true, force: true });
});

function project(ci: string, files: Record<string, string> = {}): JobPipeline {
  const pipeline = jobPipeline({ '.gitlab-ci.yml': ci, ...files });
  pipelines.push(pipeline);
  return pipeline;
}

/** Every file under `dir`, with its content, for "nothing was written here" assertions. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the hard-linked cache', () => {
  // An "install" that writes deps/ only when it is missing, as `[ -d node_modules ] || npm ci` does.
  const install = '[ -d deps ] || { mkdir deps && echo original > deps/lib.js && echo installed; }';

  it('a job that writes into a restored file in place does not hand its change to later jobs', async () => {
    const pipeline = project(`
stages: [install, tamper, use]
default:
  cache: { key: deps, paths: [deps/], policy: pull }
install:
  stage: install
  cache: { key: deps, paths: [deps/], policy: pull-push }
  script: ['${install}']
tamper:
  stage: tamper
  # Appends to the hard link in place: the same inode as the cache's copy.
  script: ['${install}', 'echo tampered >> deps/lib.js', 'cat deps/lib.js']
use:
  stage: use
  script: ['${install}', 'cat deps/lib.js']
`);
    const [first, tamper, use] = await pipeline.run();
    expect(first?.log).toMatch(/^installed$/m);
    expect(tamper?.log).not.toMatch(/^installed$/m);
    expect(tamper?.log).toContain('tampered');
    // The entry no longer matches its manifest: it is thrown away, and the job installs afresh.
    expect(use?.exitCode).toBe(0);
    expect(use?.log).toContain('was changed in place since it was saved; discarded');
    expect(use?.log).toMatch(/^installed$/m);
    expect(use?.log).not.toMatch(/^tampered$/m);
  });

  it('restores files as hard links of the entry, symlinks with their own relative targets', async () => {
    const pipeline = project(`
stages: [install, check]
install:
  stage: install
  cache: { key: nm, paths: [node_modules/], policy: pull-push }
  script:
    - mkdir -p node_modules/pkg/bin node_modules/.bin pkg
    - echo 'console.log(1)' > node_modules/pkg/bin/cli.js
    - ln -s ../pkg/bin/cli.js node_modules/.bin/cli
    - ln -s ../pkg node_modules/workspace-pkg
check:
  stage: check
  cache: { key: nm, paths: [node_modules/], policy: pull }
  script:
    - test "$(readlink node_modules/.bin/cli)" = ../pkg/bin/cli.js
    - test "$(readlink node_modules/workspace-pkg)" = ../pkg
    - stat -c %h node_modules/pkg/bin/cli.js
`);
    const [install, check] = await pipeline.run();
    expect(install?.exitCode).toBe(0);
    expect(check?.exitCode, check?.log).toBe(0);
    // Two names for the file: the cache entry's and the workspace's.
    expect(check?.log).toMatch(/^2$/m);
  });
});

describe('artifact paths', () => {
  it('.., absolute paths and symlinks out of the workspace copy no host file and write nothing outside', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'shipway-outside-'));
    outsideDirs.push(outside);
    const pipeline = project(`
stages: [one, two, three]
link:
  stage: one
  script:
    - ln -s /etc etc-link
    - ln -s /etc/hostname hostname-link
    - ln -s ${outside} out
  artifacts:
    paths: [../../../../../../etc/passwd, /etc/hostname, etc-link, etc-link/passwd, hostname-link, out]
real:
  stage: two
  # No artifacts from stage one: its own out/ is a real directory.
  dependencies: []
  script:
    - mkdir out && echo escaped > out/evil.txt
  artifacts:
    # The file alone, not its directory: restoring it needs out/ to be there already.
    paths: [out/evil.txt]
both:
  stage: three
  # link's artifacts first (out -> outside), then real's out/evil.txt: never written through the link.
  dependencies: [link, real]
  script:
    - ls -la out
`);
    const [link, real, both] = await pipeline.run();
    expect(link?.exitCode).toBe(0);
    expect(link?.log).toContain('../../../../../../etc/passwd: not a subpath of the project directory; ignored');
    expect(link?.log).toContain('/etc/hostname: not a subpath of the project directory; ignored');
    expect(link?.log).toContain('etc-link/passwd: passes through a symlink or a file; ignored');
    expect(real?.exitCode).toBe(0);
    expect(both?.exitCode).toBe(0);
    expect(both?.log).toContain('out/evil.txt: not restored (a symlink or a file is in the way in the workspace)');
    // Nothing landed outside, and the kept artifacts hold links, not copies of host files.
    expect(filesUnder(outside)).toEqual([]);
    const kept = filesUnder(join(pipeline.runDir, 'artifacts'));
    const hostPasswd = readFileSync('/etc/passwd', 'utf8');
    for (const file of kept)
      if (!lstatSync(file).isSymbolicLink()) expect(readFileSync(file, 'utf8')).not.toBe(hostPasswd);
    expect(readlinkSync(join(pipeline.workspace, 'etc-link'))).toBe('/etc');
  });
});

describe('job logs', () => {
  const secret = 'glpat-s3cr3t-T0ken-value';

  it('never hold a secret variable, even when the job writes it in two pieces', async () => {
    const pipeline = project(`
job:
  script:
    - printf '%s' "\${SHIPWAY_GIT_TOKEN:0:9}"; sleep 0.3; printf '%s\\n' "\${SHIPWAY_GIT_TOKEN:9}"
    - echo "json {\\"t\\":\\"$SHIPWAY_GIT_TOKEN\\"}" >&2
    - echo "$DEPLOY_KEY" | cut -c1-6; sleep 0.2; echo "$DEPLOY_KEY"
`);
    const [job] = await pipeline.run({
      outside: { SHIPWAY_GIT_TOKEN: secret, DEPLOY_KEY: 'masked-deploy-key-42' },
      masked: ['masked-deploy-key-42'],
    });
    expect(job?.exitCode).toBe(0);
    expect(job?.log).not.toContain(secret);
    expect(job?.log).not.toContain('masked-deploy-key-42');
    expect(job?.log.match(/\[redacted\]/g)?.length).toBe(3);
    // The start of the key on its own is not a secret: it is printed.
    expect(job?.log).toContain('masked\n');
  });
});
