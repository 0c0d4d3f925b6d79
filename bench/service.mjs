// npm run bench:service — the hello service against a raw node:http server and the original
// Express 4 app, each in its own process on loopback, driven with the same autocannon load.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('..', import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const targets = [
  {
    name: 'hello-service (Fastify)',
    key: 'service',
    args: ['service/dist/server.js'],
    env: { PORT: '0', HOST: '127.0.0.1' },
  },
  { name: 'raw node:http', key: 'raw', args: ['bench/servers/raw-http.mjs'], env: {} },
  { name: 'Express 4 (original)', key: 'express', args: ['bench/servers/express.mjs'], env: {} },
];

function start(target) {
  const child = spawn(process.execPath, target.args, {
    cwd: root,
    env: { ...process.env, ...target.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const { address } = JSON.parse(line);
        if (typeof address === 'string') resolve({ child, address });
      } catch {}
    });
    child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code} before listening`)));
  });
}

function load(url, seconds) {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds });
}

async function measure(target) {
  const { child, address } = await start(target);
  try {
    await load(address, WARMUP_S);
    const result = await load(address, DURATION_S);
    const failed = result.errors + result.timeouts + result.non2xx;
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failed };
  } finally {
    child.kill('SIGTERM');
  }
}

const results = {};
for (const target of targets) {
  results[target.key] = await measure(target);
  const r = results[target.key];
  console.log(
    `${target.name.padEnd(26)} ${Math.round(r.rps).toString().padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  failed ${r.failed}`,
  );
}
const ratio = (a, b) => (results[a].rps / results[b].rps).toFixed(2);
console.log(`service/raw     ${ratio('service', 'raw')}x   (target >= 0.75x)`);
console.log(`service/express ${ratio('service', 'express')}x   (target >= 3x)`);
console.log(`(${CONNECTIONS} connections, ${DURATION_S} s each after ${WARMUP_S} s warm-up, node ${process.version})`);
