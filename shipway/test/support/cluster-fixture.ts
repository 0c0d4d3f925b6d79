import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startCluster } from '../../src/app/cluster.js';
import type { EmbeddedCluster } from '../../src/local/cluster/embedded-cluster.js';
import { createRegistryServer } from '../../src/local/registry/registry-server.js';
import { cloneRepo, type RepoClone } from './repo-clone.js';
import { shipway } from './run-shipway.js';

export interface ClusterFixture {
  readonly clone: RepoClone;
  /**
   * AWS_REPOSITORY pointing at the fixture's registry, and SHIPWAY_HOME at the clone's .shipway
   * (so the local stack's cluster is the one in .shipway/cluster), for every shipway call.
   */
  readonly env: Record<string, string>;
  /** Builds the clone's service as it is now and pushes it under `tag`. */
  build(tag: string): Promise<{ ref: string; digest: string }>;
  /** Starts the embedded cluster in the clone; returns prod's URL. */
  start(): Promise<string>;
  /** Stops the cluster (every pod with it) and starts it again on the same state dir. */
  restart(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * What the cluster tests share: a clone of this repository whose origin is a fresh bare remote
 * (the GitOps branches land there), an embedded registry for its images, and the embedded
 * cluster following that remote.
 */
export async function createClusterFixture(prefix: string): Promise<ClusterFixture> {
  const clone = cloneRepo(prefix);
  const remote = join(clone.dir, '..', 'remote.git');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote]);
  execFileSync('git', ['remote', 'set-url', 'origin', remote], { cwd: clone.dir });
  execFileSync('git', ['push', '--quiet', 'origin', 'HEAD:main'], { cwd: clone.dir });
  const registry = await createRegistryServer({ dir: join(clone.dir, '..', 'registry') });
  const env = {
    AWS_REPOSITORY: `${new URL(await registry.listen({ port: 0, host: '127.0.0.1' })).host}/hello`,
    SHIPWAY_HOME: join(clone.dir, '.shipway'),
  };
  let cluster: EmbeddedCluster | undefined;
  const start = async () => {
    const started = await startCluster(
      { cwd: clone.dir, env: { ...process.env, ...env }, progress: () => {} },
      { stateDir: '.shipway/cluster' },
    );
    cluster = started.cluster;
    return started.info.urls.prod ?? '';
  };
  return {
    clone,
    env,
    async build(tag) {
      const result = await shipway(
        clone.dir,
        ['image', 'build', '--base', 'host', '--push', '--tag', tag, '--json'],
        env,
      );
      if (result.code !== 0) throw new Error(result.stderr);
      return JSON.parse(result.stdout) as { ref: string; digest: string };
    },
    start,
    async restart() {
      await cluster?.down();
      return start();
    },
    async stop() {
      await cluster?.down();
      await registry.close();
      clone.cleanup();
    },
  };
}
