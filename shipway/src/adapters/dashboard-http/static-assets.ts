import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

function asset(path: string): Asset {
  const body = readFileSync(path);
  const extension = path.slice(path.lastIndexOf('.'));
  return {
    type: TYPES[extension] ?? 'application/octet-stream',
    body,
    gzip: gzipSync(body, { level: 9 }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

/**
 * The page and everything it loads, read once at start into memory (and gzipped once): a fixed
 * table from URL path to file, so no request path ever reaches the filesystem. The page's own
 * modules are compiled from shipway/ui by tsc into dist/ui; uPlot comes from its package.
 */
export function loadAssets(): Map<string, Asset> {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/adapters/dashboard-http (tests) or dist/adapters/dashboard-http (built): the package root is three up.
  const root = join(here, '..', '..', '..');
  const assets = new Map<string, Asset>();
  const staticDir = join(root, 'ui', 'static');
  assets.set('/', asset(join(staticDir, 'index.html')));
  for (const file of readdirSync(staticDir).filter((entry) => /\.(css|svg|png)$/.test(entry)))
    assets.set(`/assets/${file}`, asset(join(staticDir, file)));
  const compiled = join(root, 'dist', 'ui');
  for (const file of readdirSync(compiled).filter((entry) => entry.endsWith('.js')))
    assets.set(`/assets/${file}`, asset(join(compiled, file)));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  assets.set('/assets/vendor/uplot.js', asset(join(uplot, 'uPlot.iife.min.js')));
  assets.set('/assets/vendor/uplot.css', asset(join(uplot, 'uPlot.min.css')));
  return assets;
}
