import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shipway } from './support/run-shipway.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipway-kustomize-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('shipway kustomize set-image', () => {
  it('edits kustomization.yml in place and keeps its comments', async () => {
    writeFileSync(join(dir, 'kustomization.yml'), '# keep me\nresources: [a.yaml]\nimages: []\n');
    const run = await shipway(dir, ['kustomize', 'set-image', '.', 'app=reg.io/app:553640e6', 'db:16']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`updated ${join(dir, 'kustomization.yml')}\n`);
    expect(readFileSync(join(dir, 'kustomization.yml'), 'utf8')).toBe(
      '# keep me\nresources: [a.yaml]\nimages:\n  - name: app\n    newName: reg.io/app\n    newTag: "553640e6"\n  - name: db\n    newTag: "16"\n',
    );
  });

  it('finds a file named Kustomization and prints --json', async () => {
    writeFileSync(join(dir, 'Kustomization'), 'images:\n  - name: app\n    newTag: v1\n');
    const run = await shipway(dir, ['kustomize', 'set-image', '.', 'app=*:v2', '--json']);
    expect(JSON.parse(run.stdout)).toMatchObject({
      changed: true,
      images: [{ name: 'app', newName: '', newTag: 'v2', digest: '' }],
    });
  });

  it('fails like kustomize with no image, an invalid argument, or no kustomization (exit 2, file untouched)', async () => {
    writeFileSync(join(dir, 'kustomization.yaml'), 'images: []\n');
    const none = await shipway(dir, ['kustomize', 'set-image', '.']);
    expect([none.code, none.stderr]).toEqual([2, 'shipway: no image specified\n']);
    const invalid = await shipway(dir, ['kustomize', 'set-image', '.', 'justaname']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('invalid format of image, use one of the following options:');
    expect(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')).toBe('images: []\n');
    const missing = await shipway(dir, ['kustomize', 'set-image', 'nowhere', 'app:v1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^shipway: cannot read directory .*nowhere/);
  });

  it('refuses a directory with two kustomization files, as kustomize does', async () => {
    writeFileSync(join(dir, 'kustomization.yaml'), 'images: []\n');
    writeFileSync(join(dir, 'kustomization.yml'), 'images: []\n');
    const run = await shipway(dir, ['kustomize', 'set-image', '.', 'app:v1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('found multiple kustomization files');
  });
});
