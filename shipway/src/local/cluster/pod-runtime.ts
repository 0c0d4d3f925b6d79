import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeAtomically } from '../../adapters/fs/write-atomically.js';
import { type PulledImage, pullAndUnpack } from '../../adapters/image/unpack-image.js';
import { signalGroup } from '../../adapters/process/signal-group.js';
import { RegistryClient } from '../../adapters/registry/registry-client.js';
import { parseImageRef } from '../../core/image-ref.js';
import { locate } from '../../core/oci/normalize-reference.js';
import type { ContainerEnv } from '../../core/pod/container-env.js';
import type { Container } from '../../core/pod/pod-template.js';
import { planLaunch } from './container-launch.js';
import { PodProcessRecords } from './pod-records.js';

export interface Probe {
  readonly path: string;
  readonly periodMs: number;
  readonly failureThreshold: number;
}

export interface PodSpec {
  readonly owner: string;
  readonly revision: string;
  readonly image: string;
  readonly container: Container;
  /** The container's environment, built at every start as the kubelet builds it (ConfigMaps and Secrets read then). */
  readonly environment: (pod: { readonly name: string; readonly uid: string }) => ContainerEnv;
  readonly readiness: Probe | undefined;
  readonly liveness: Probe | undefined;
  readonly terminationGraceMs: number;
}

export type PodState = 'starting' | 'ready' | 'unready' | 'terminating' | 'crashed';

export interface Pod {
  readonly name: string;
  readonly uid: string;
  readonly spec: PodSpec;
  port: number;
  state: PodState;
  restarts: number;
  child: ChildProcess | undefined;
  /** Why the pod last failed to start (an image that cannot be pulled, a missing command). */
  error?: string;
}

// Probes run at most this far apart on one machine, so local rollouts move in seconds.
const MAX_PROBE_PERIOD_MS = 500;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function probe(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 400);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Read through a call, so the compiler does not assume the state stood still across awaits. */
function isTerminating(pod: Pod): boolean {
  return pod.state === 'terminating';
}

/**
 * Pods as local processes: each runs the image's command from the image's unpacked rootfs (pulled
 * by digest from its registry), on its own loopback port, with the container's environment and
 * the manifest's readiness and liveness probes. A crashed pod restarts with exponential back-off;
 * a stopped pod gets SIGTERM and its grace period, as the kubelet gives it. Each pod runs as the
 * leader of a process group of its own, which is what gets signalled, and is recorded in the
 * state dir (pod-records.ts) so that pods outliving a killed cluster are found and stopped.
 */
export class PodRuntime {
  private readonly pods = new Map<string, Pod>();
  private readonly images = new Map<string, Promise<PulledImage>>();
  private counter = 0;
  private closed = false;
  private readonly records: PodProcessRecords;

  constructor(
    private readonly stateDir: string,
    private readonly onChange: () => void,
    private readonly clientFor: (registry: string) => RegistryClient = (registry) => new RegistryClient(registry),
  ) {
    this.records = new PodProcessRecords(join(stateDir, 'pods'));
  }

  list(owner?: string): Pod[] {
    return [...this.pods.values()].filter((pod) => owner === undefined || pod.spec.owner === owner);
  }

  image(reference: string): Promise<PulledImage> {
    let pulled = this.images.get(reference);
    if (pulled === undefined) {
      pulled = this.pull(reference);
      this.images.set(reference, pulled);
      pulled.catch(() => this.images.delete(reference));
    }
    return pulled;
  }

  private async pull(reference: string): Promise<PulledImage> {
    const ref = parseImageRef(reference);
    const { registry, repository } = locate(ref);
    const key = (ref.digest ?? `${repository}-${ref.tag ?? 'latest'}`).replace(/[^a-zA-Z0-9._-]/g, '_');
    const marker = join(this.stateDir, 'images', `${key}.json`);
    // Only a digest names the same image forever; a tag is pulled again.
    if (ref.digest !== undefined && existsSync(marker))
      return JSON.parse(await readFile(marker, 'utf8')) as PulledImage;
    const image = await pullAndUnpack(
      this.clientFor(registry),
      repository,
      ref.digest ?? ref.tag ?? 'latest',
      join(this.stateDir, 'images'),
      join(this.stateDir, 'layers'),
    );
    await writeAtomically(marker, JSON.stringify(image));
    return image;
  }

  async start(spec: PodSpec): Promise<Pod> {
    this.counter += 1;
    const pod: Pod = {
      name: `${spec.owner.split('/').pop() ?? 'pod'}-${spec.revision}-${this.counter.toString(36)}`,
      uid: randomUUID(),
      spec,
      port: 0,
      state: 'starting',
      restarts: 0,
      child: undefined,
    };
    this.pods.set(pod.name, pod);
    await this.launchOrRetry(pod);
    return pod;
  }

  /** A pod that cannot start is reported and tried again with back-off, as the kubelet does. */
  private async launchOrRetry(pod: Pod): Promise<void> {
    try {
      await this.launch(pod);
      delete pod.error;
    } catch (error) {
      pod.error = error instanceof Error ? error.message : String(error);
      pod.state = 'crashed';
      pod.restarts += 1;
      this.onChange();
      setTimeout(
        () => {
          if (pod.state === 'crashed' && !this.closed) void this.launchOrRetry(pod);
        },
        Math.min(10_000, 500 * 2 ** (pod.restarts - 1)),
      ).unref();
    }
  }

  private async launch(pod: Pod): Promise<void> {
    const image = await this.image(pod.spec.image);
    if (pod.state === 'terminating' || this.closed) return;
    pod.port = await freePort();
    const built = pod.spec.environment(pod);
    if (!built.ok) throw new Error(`${built.error.reason}: ${built.error.message}`);
    // The pod's loopback port replaces the manifest's PORT (and its containerPort), so that
    // `$(PORT)` in args and the program itself see the port the proxies and probes use.
    const env = new Map([...built.env, ['PORT', String(pod.port)], ['HOST', '127.0.0.1']]);
    env.set('IMAGE_DIGEST', parseImageRef(pod.spec.image).digest ?? '');
    const launch = planLaunch(image, pod.spec.container, env, pod.name);
    const logDir = join(this.stateDir, 'logs');
    await mkdir(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${pod.name}.log`), { flags: 'a' });
    if (built.skipped.length > 0)
      log.write(
        `shipway: InvalidEnvironmentVariableNames: keys [${built.skipped.join(', ')}] from envFrom were skipped since they are not valid environment variable names\n`,
      );
    const child = spawn(launch.program, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A session and process group of its own: stop() signals the pod with whatever it started,
      // and a terminal's Ctrl-C reaches the cluster (which drains its pods) but not the pods.
      detached: true,
    });
    if (child.pid !== undefined) this.records.record(pod.name, child.pid);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    pod.child = child;
    pod.state = 'starting';
    const exited = () => {
      this.records.forget(pod.name);
      log.end();
      if (pod.state === 'terminating' || this.closed) {
        this.pods.delete(pod.name);
        this.onChange();
        return;
      }
      pod.state = 'crashed';
      pod.restarts += 1;
      this.onChange();
      const backoff = Math.min(10_000, 500 * 2 ** (pod.restarts - 1));
      setTimeout(() => {
        if (pod.state === 'crashed' && !this.closed) void this.launchOrRetry(pod);
      }, backoff).unref();
    };
    child.once('exit', exited);
    // A program the kernel refuses to run (not executable) is an 'error' with no 'exit'.
    child.once('error', (error) => {
      if (child.pid !== undefined) return;
      pod.error = `RunContainerError: ${error.message.replace(launch.program, pod.spec.container.name)}`;
      exited();
    });
    void this.watchProbes(pod, child);
  }

  private async watchProbes(pod: Pod, child: ChildProcess): Promise<void> {
    let livenessFailures = 0;
    let lastLiveness = 0;
    const readiness = pod.spec.readiness;
    while (pod.child === child && child.exitCode === null && pod.state !== 'terminating' && !this.closed) {
      const period = Math.min(MAX_PROBE_PERIOD_MS, readiness?.periodMs ?? MAX_PROBE_PERIOD_MS);
      await new Promise((resolve) => setTimeout(resolve, pod.state === 'starting' ? 100 : period));
      if (pod.child !== child || isTerminating(pod) || child.exitCode !== null) return;
      const ready = readiness === undefined ? child.pid !== undefined : await probe(pod.port, readiness.path);
      const next: PodState = ready ? 'ready' : pod.state === 'starting' ? 'starting' : 'unready';
      if (next !== pod.state && !isTerminating(pod)) {
        pod.state = next;
        this.onChange();
      }
      const liveness = pod.spec.liveness;
      if (
        liveness !== undefined &&
        Date.now() - lastLiveness >= Math.min(MAX_PROBE_PERIOD_MS, liveness.periodMs) &&
        pod.state !== 'starting'
      ) {
        lastLiveness = Date.now();
        livenessFailures = (await probe(pod.port, liveness.path)) ? 0 : livenessFailures + 1;
        if (livenessFailures >= liveness.failureThreshold && child.exitCode === null && child.signalCode === null)
          signalGroup(child.pid ?? 0, 'SIGKILL');
      }
    }
  }

  /** Takes the pod out of service at once, then SIGTERM, then SIGKILL after the grace period. */
  async stop(pod: Pod): Promise<void> {
    if (pod.state === 'terminating') return;
    pod.state = 'terminating';
    this.onChange();
    const child = pod.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.pods.delete(pod.name);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // The group is signalled only while its leader runs, so the pid cannot have been reused.
    signalGroup(child.pid ?? 0, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child.pid ?? 0, 'SIGKILL'), pod.spec.terminationGraceMs);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pods.values()].map((pod) => this.stop(pod)));
  }
}
