#!/usr/bin/env node
// Refreshes the data files the tests vendor (shipway/test/fixtures/vendored.json lists them):
//   node scripts/refresh-vendored.mjs --from <dir>   copy each file from a local tree laid out as
//                                                    the team's shared reference folder (../shared)
//   node scripts/refresh-vendored.mjs --download     fetch each file that has an upstream `url`
// Then it records each file's new sha256 in vendored.json and prints what changed. Nothing in the
// tests runs this script: they read only the copies in the repository.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../shipway/test/fixtures/', import.meta.url));
const manifestPath = join(fixtures, 'vendored.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
const args = process.argv.slice(2);
const fromIndex = args.indexOf('--from');
const from = fromIndex === -1 ? undefined : resolve(args[fromIndex + 1] ?? '');
const download = args.includes('--download');
if (from === undefined && !download) {
  process.stderr.write('usage: node scripts/refresh-vendored.mjs --from <shared dir> | --download\n');
  process.exit(2);
}

async function contentOf(entry) {
  if (from !== undefined) {
    const source = join(from, entry.shared);
    return existsSync(source) ? readFileSync(source) : undefined;
  }
  if (entry.url === undefined) return undefined;
  const response = await fetch(entry.url);
  if (!response.ok) throw new Error(`${entry.url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

let changed = 0;
for (const entry of manifest.files) {
  const bytes = await contentOf(entry);
  if (bytes === undefined) {
    process.stderr.write(`skipped ${entry.path}: no source for it\n`);
    continue;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 === entry.sha256) continue;
  const target = join(fixtures, entry.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bytes);
  process.stdout.write(`updated ${entry.path}: ${entry.sha256.slice(0, 12)} → ${sha256.slice(0, 12)}\n`);
  entry.sha256 = sha256;
  changed += 1;
}
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`${changed} file(s) changed; update each entry's "source" to the new version\n`);
