import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedDashboard, serveDashboard } from '../../src/app/dashboard/serve-dashboard.js';
import { recordPipeline } from '../../src/app/pipeline-record-file.js';
import { launchChromium } from '../support/browser.js';
import { type ClusterFixture, createClusterFixture } from '../support/cluster-fixture.js';
import { REPO_ROOT } from '../support/git-fixture.js';
import { shipway } from '../support/run-shipway.js';

// The dashboard in a real Chromium against the real embedded cluster: the state a local pipeline
// run leaves (images in the embedded registry, dev/stage/prod promoted through Git, prod's canary
// paused at its first pause, a pipeline record with job logs), set up the way cluster-fixture
// does it because a full `shipway run` takes minutes.
// page.evaluate and waitForFunction callbacks run in the page; this program has no DOM lib, so the
// little they use of the page's globals is declared here.
interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  closest(selector: string): PageElement | null;
}
declare const document: {
  readonly activeElement: PageElement | null;
  querySelector(selector: string): PageElement | null;
  getElementById(id: string): PageElement | null;
};

const ARTIFACTS = process.env.SHIPWAY_TEST_ARTIFACTS ?? join(tmpdir(), 'shipway-dashboard-artifacts');
let fixture: ClusterFixture;
let env: Record<string, string>;
const digests: string[] = [];
let browser: Awaited<ReturnType<typeof launchChromium>>;
let actions: ServedDashboard;
let readOnly: ServedDashboard;
let recorder: ReturnType<typeof recordPipeline>;
let deployLog: string;

const cli = async (...argv: string[]) => {
  const run = await shipway(fixture.clone.dir, argv, env);
  if (run.code !== 0) throw new Error(`${argv.join(' ')}: ${run.stderr}`);
  return run.stdout;
};
const short = (n: number) => (digests[n] ?? '').slice(7, 19);

async function stepOf(): Promise<number> {
  return JSON.parse(await cli('rollout', 'status', 'prod', '--json')).step.current;
}

/** Saved under ARTIFACTS; with SHIPWAY_UPDATE_DOCS_SCREENSHOTS=1 also copied to docs/ (the README shows them). */
async function screenshot(page: Page, name: string, clip: { y: number; height: number }): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, name);
  await page.screenshot({ path: file, type: 'png', clip: { x: 0, width: 1280, ...clip } });
  if (process.env.SHIPWAY_UPDATE_DOCS_SCREENSHOTS === '1') copyFileSync(file, join(REPO_ROOT, 'docs', name));
}

function writeRunRecord(dir: string): void {
  const runDir = join(dir, '.shipway', 'runs', '90001-prod');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'build.log'), '$ npm ci\nadded 312 packages\n');
  deployLog = join(runDir, 'deploy-prod.log');
  writeFileSync(deployLog, '$ npx shipway promote prod --from stage\n');
  const record = {
    id: 90001,
    ref: 'prod',
    sha: 'c'.repeat(40),
    created: true,
    reason: null,
    status: 'not-created',
    ms: 0,
    jobs: [
      {
        name: 'build',
        stage: 'build',
        status: 'success',
        ms: 40,
        log: join(runDir, 'build.log'),
        reused: { pipeline: 89999, ref: 'dev' },
      },
      { name: 'deploy-prod', stage: 'deploy', status: 'running', ms: null, log: deployLog },
    ],
  };
  recorder = recordPipeline(runDir, record, Date.now() - 60_000);
  recorder.job('build', 'success');
  recorder.job('deploy-prod', 'running');
}

beforeAll(async () => {
  const started = Date.now();
  fixture = await createClusterFixture('shipway-dashboard-browser-');
  env = fixture.env;
  const dir = fixture.clone.dir;
  digests.push((await fixture.build('v1')).digest);
  appendFileSync(join(dir, 'service/src/create-server.ts'), '\n// v2\n');
  digests.push((await fixture.build('v2')).digest);
  appendFileSync(join(dir, 'service/src/create-server.ts'), '\n// v3\n');
  digests.push((await fixture.build('v3')).digest);
  const ref = (n: number) => `${env.AWS_REPOSITORY}:v${n + 1}@${digests[n]}`;
  await fixture.start();
  await cli('promote', 'dev', '--image', ref(0));
  await cli('promote', 'stage', '--from', 'dev');
  await cli('promote', 'prod', '--from', 'stage', '--approve');
  await cli('rollout', 'wait', 'prod', '--for', 'healthy', '--timeout', '90s');
  await cli('promote', 'dev', '--image', ref(1));
  await cli('promote', 'stage', '--from', 'dev');
  await cli('promote', 'prod', '--from', 'stage', '--approve');
  await cli('rollout', 'wait', 'prod', '--for', 'paused', '--timeout', '90s');
  await cli('promote', 'dev', '--image', ref(2));
  writeRunRecord(dir);
  const context = { cwd: dir, env: { ...process.env, ...env }, progress: () => {} };
  actions = await serveDashboard(context, { host: '127.0.0.1', port: 0, allowActions: true });
  readOnly = await serveDashboard(context, { host: '127.0.0.1', port: 0, allowActions: false });
  browser = await launchChromium();
  console.log(`setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await actions?.server.close();
  await readOnly?.server.close();
  await fixture?.stop();
}, 60_000);

async function openBoard(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('[data-env="prod"] .step');
  await page.waitForFunction(() => document.getElementById('live')?.textContent?.startsWith('live'));
  return page;
}

describe('shipway dashboard in Chromium', () => {
  it("the board shows each environment's digest and prod's rollout phase and step; first load under 200 KB", async () => {
    const page = await openBoard(browser.context, readOnly.url);
    const digestOf = (env: string) => page.locator(`[data-env="${env}"] dl .digest`).first().textContent();
    expect(await digestOf('dev')).toBe(short(2));
    expect(await digestOf('stage')).toBe(short(1));
    expect(await digestOf('prod')).toBe(short(1));
    // The same release carries the same colour class wherever it is.
    const releaseClass = (env: string) => page.locator(`[data-env="${env}"]`).getAttribute('class');
    expect(await releaseClass('stage')).toBe(await releaseClass('prod'));
    expect(await releaseClass('dev')).not.toBe(await releaseClass('prod'));
    expect(await page.locator('[data-env="prod"] dl .digest').first().getAttribute('title')).toBe(digests[1]);
    expect(await page.locator('[data-env="prod"] .phase').textContent()).toContain('Paused');
    expect(await page.locator('[data-env="prod"] .step').textContent()).toBe('1/6');
    const pods = await page.locator('[data-env="prod"] .pods').textContent();
    expect(pods).toMatch(/canary \w+: 1\/1/);
    expect(pods).toMatch(/stable \w+: 4\/4/);
    // Read-only: no action buttons, only the preview.
    expect(await page.locator('[data-action="Promote"]').count()).toBe(0);
    // Bytes on the wire (headers and gzip-compressed bodies) of the page, its scripts and styles
    // and the API answers it fetched (Resource Timing transferSize); the open event stream is not done yet.
    const transferred = Number(
      await page.evaluate(
        `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].reduce((sum, entry) => sum + entry.transferSize, 0)`,
      ),
    );
    console.log(`first page load transferred ${transferred} bytes (${(transferred / 1024).toFixed(1)} KiB)`);
    expect(transferred).toBeGreaterThan(1000);
    expect(transferred).toBeLessThan(200 * 1024);
    await screenshot(page, 'dashboard-board.png', { y: 0, height: 370 });
    await page.close();
  }, 60_000);

  it('the promotion preview shows the kustomization and rendered-manifest diffs', async () => {
    const page = await openBoard(browser.context, readOnly.url);
    await page.locator('[data-env="stage"] [data-action="Preview from dev"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await expect.poll(() => dialog.locator('pre').count(), { timeout: 90_000 }).toBe(2);
    const text = await dialog.textContent();
    expect(text).toContain(`-    digest: ${digests[1]}`);
    expect(text).toContain(`+    digest: ${digests[2]}`);
    expect(text).toContain(`+          image: ${env.AWS_REPOSITORY}:v3@${digests[2]}`);
    await screenshot(page, 'dashboard-preview.png', { y: 110, height: 690 });
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog[open]').count(), { timeout: 15_000 }).toBe(0);
    await page.close();
  }, 120_000);

  it('without --allow-actions, or without the token, a promotion is refused (403) and the canary stays', async () => {
    const page = await openBoard(browser.context, readOnly.url);
    const refused = await page.evaluate(async (digest) => {
      const response = await fetch('/api/apps/hello/environments/prod/actions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'promote', digest }),
      });
      return [response.status, ((await response.json()) as { code: string }).code];
    }, digests[1]);
    expect(refused).toEqual([403, 'READ_ONLY']);
    await page.close();
    const unsigned = await openBoard(browser.context, actions.url);
    await unsigned.locator('[data-env="prod"] [data-action="Promote"]').click();
    await unsigned.locator('dialog[open] #dialog-ok').click();
    await expect.poll(() => unsigned.locator('#toast').textContent(), { timeout: 15_000 }).toContain('sign in');
    expect(await stepOf()).toBe(1);
    await unsigned.close();
  }, 60_000);

  it('signed in with the one-time token, Promote (keyboard only, confirmation names the digest) moves the canary', async () => {
    const page = await browser.context.newPage();
    await page.goto(actions.loginUrl ?? '');
    expect(page.url()).toBe(actions.url);
    await page.waitForSelector('[data-env="prod"] [data-action="Promote"]');
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: 15_000 }).toBe('actions enabled');
    await page.locator('[data-env="prod"] [data-action="Promote"]').focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    expect(await dialog.locator('.confirm-digest').textContent()).toBe(digests[1]);
    // Focus stays in the dialog (showModal makes the page inert); Escape cancels and nothing happens.
    for (let i = 0; i < 4; i += 1) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.closest('dialog') !== null)).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('dialog[open]').count(), { timeout: 15_000 }).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.dataset.action)).toBe('Promote');
    expect(await stepOf()).toBe(1);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.locator('#dialog-ok').focus();
    await page.keyboard.press('Enter');
    await expect.poll(stepOf, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('[data-env="prod"] .step').textContent(), { timeout: 10_000 }).not.toBe('1/6');
    await page.close();
  }, 60_000);

  it("the board updates by itself when the rollout changes, and a running job's log streams", async () => {
    const page = await openBoard(browser.context, readOnly.url);
    await expect.poll(() => page.locator('[data-env="prod"] .step').textContent(), { timeout: 30_000 }).toBe('3/6');
    await cli('rollout', 'promote', 'prod');
    const changed = Date.now();
    await page.waitForFunction(
      () => document.querySelector('[data-env="prod"] .step')?.textContent !== '3/6',
      undefined,
      { polling: 20, timeout: 20_000 },
    );
    console.log(`board reflected the canary step change ${Date.now() - changed} ms after the promote returned`);
    // The analysis step's AnalysisRun, with its measurements, appears on prod's card by itself.
    const analysis = page.locator('[data-env="prod"] details.analysis');
    await analysis.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => analysis.locator('td').allTextContents(), { timeout: 30_000 })
      .toEqual(
        expect.arrayContaining(['error-rate', expect.stringMatching(/\((Successful|Failed|Inconclusive|Error)\)/)]),
      );
    await page.locator('nav button[data-view="pipelines"]').click();
    // A build reused from dev's pipeline (SHIPWAY_REUSE: tree) says so.
    expect(await page.locator('tr[data-job="build"] td.status-success').textContent()).toBe(
      'success (reused from dev #89999)',
    );
    await page.locator('tr[data-job="deploy-prod"] button').click();
    await expect
      .poll(() => page.locator('pre.log').textContent(), { timeout: 15_000 })
      .toContain('npx shipway promote prod');
    appendFileSync(deployLog, 'promoted prod: streamed line\n');
    await expect.poll(() => page.locator('pre.log').textContent(), { timeout: 10_000 }).toContain('streamed line');
    recorder.job('deploy-prod', 'success');
    await page.locator('nav button[data-view="metrics"]').click();
    await page.waitForSelector('.figure');
    expect(await page.locator('.figure').count()).toBe(6);
    await page.close();
  }, 90_000);
});
