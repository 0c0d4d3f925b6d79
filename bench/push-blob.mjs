// Pushes one random blob of N MiB with shipway's registry client and prints throughput and this
// process's peak RSS, so bench:image can show that memory does not grow with blob size.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { RegistryClient } from '../shipway/dist/adapters/registry/registry-client.js';

const [host, mibText, file] = process.argv.slice(2);
const size = Number(mibText) * 1024 * 1024;
const hash = createHash('sha256');
const out = createWriteStream(file);
for (let written = 0; written < size; written += 1024 * 1024) {
  const chunk = randomBytes(1024 * 1024);
  hash.update(chunk);
  if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
}
await new Promise((resolve) => out.end(resolve));
const digest = `sha256:${hash.digest('hex')}`;
const rssBefore = process.resourceUsage().maxRSS;
const client = new RegistryClient(host, { chunkSize: 64 * 1024 * 1024 });
const started = performance.now();
await client.uploadBlob('bench/blob', { digest, size, open: (start, end) => createReadStream(file, { start, end }) });
const seconds = (performance.now() - started) / 1000;
const peak = process.resourceUsage().maxRSS / 1024;
console.log(
  `${(size / 1024 / 1024 / seconds).toFixed(0)} MiB/s (${seconds.toFixed(2)} s), peak RSS ${peak.toFixed(0)} MiB (${(rssBefore / 1024).toFixed(0)} MiB before the upload)`,
);
