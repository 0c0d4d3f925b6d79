import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type HelloServer } from '../src/create-server.js';
import { drainAndClose } from '../src/graceful-shutdown.js';
import { httpGet } from './support/http-get.js';
import { type RunningService, startService } from './support/start-service.js';

const info = { version: '0.0.0', revision: null, imageDigest: null };

describe('drainAndClose', () => {
  let server: HelloServer | undefined;
  afterEach(async () => {
    server?.app.server.closeAllConnections();
    await server?.app.close();
  });

  it('lets an in-flight request finish before closing', async () => {
    server = createServer({ info });
    let release: () => void = () => {};
    let arrived: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    server.app.get('/slow', async () => {
      arrived();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { done: true };
    });
    const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = httpGet(`${address}/slow`);
    // The request is in flight once its handler runs (no fixed sleep: a loaded machine is slow).
    await inHandler;
    const closing = drainAndClose(server, { delayMs: 0, timeoutMs: 5000 });
    expect(server.isDraining()).toBe(true);
    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await closing).toBe('clean');
    await expect(httpGet(`${address}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives up after the bound and reports a forced close', async () => {
    server = createServer({ info });
    let arrived: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    server.app.get('/stuck', () => {
      arrived();
      return new Promise(() => {});
    });
    const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const stuck = httpGet(`${address}/stuck`).catch((error: unknown) => error);
    // Stuck once its handler runs: a fixed sleep let a loaded machine close before it arrived.
    await inHandler;
    const started = Date.now();
    expect(await drainAndClose(server, { delayMs: 0, timeoutMs: 300 })).toBe('forced');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await stuck).toBeInstanceOf(Error);
  });
});

describe('the built service as a real process', () => {
  let running: RunningService | undefined;
  afterEach(() => {
    running?.child.kill('SIGKILL');
    running = undefined;
  });

  it('drains under load on SIGTERM: /readyz 503 during the drain, zero failed requests, exit 0', async () => {
    running = await startService({ SHUTDOWN_DELAY_MS: '600', SHUTDOWN_TIMEOUT_MS: '5000' });
    const { address } = running;
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    let routing = true; // what a load balancer believes: keep sending while the pod looks ready
    let ok = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (routing) {
        try {
          const response = await httpGet(`${address}/`, agent);
          if (response.status === 200 && response.body === 'Hello world') ok += 1;
          else failures.push(`status ${response.status}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // Steady load first: at least 100 answered before the signal, however slow the machine is.
    while (ok <= 100 && failures.length === 0) await sleep(20);
    const okBeforeSignal = ok;
    running.child.kill('SIGTERM');
    // The load balancer's view: poll readiness, stop routing once it fails.
    let readyz = 200;
    while (readyz === 200) {
      readyz = (await httpGet(`${address}/readyz`)).status;
    }
    // During the drain window the pod still serves whoever has not noticed yet.
    const lateRequest = await httpGet(`${address}/`, agent);
    routing = false;
    await Promise.all(workers);
    agent.destroy();
    expect(readyz).toBe(503);
    expect(failures).toEqual([]);
    expect(okBeforeSignal).toBeGreaterThan(100);
    expect(lateRequest.status).toBe(200);
    expect(await running.exited).toBe(0);
    expect(running.logs.some((line) => line.includes('"outcome":"clean"'))).toBe(true);
  });

  it('refuses a bad PORT with a one-line reason and exit code 2', async () => {
    await expect(startService({ PORT: 'eighty' })).rejects.toThrow(
      /exited with 2 before listening:\nhello-service: invalid configuration: PORT must be an integer/,
    );
  });
});
