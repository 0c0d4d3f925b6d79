import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { PulledImage } from '../../adapters/image/unpack-image.js';
import { containerArgv } from '../../core/pod/container-argv.js';
import type { Container } from '../../core/pod/pod-template.js';

/** How one container of a pod is started: program and arguments, directory and environment. */
export interface ContainerLaunch {
  readonly program: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
}

/** A container that cannot be started as specified (the kubelet's RunContainerError). */
export class ContainerStartError extends Error {}

function imageEnv(image: PulledImage): Map<string, string> {
  const entries = (image.config.config.Env ?? []).map((entry): [string, string] => {
    const at = entry.indexOf('=');
    return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
  });
  return new Map(entries);
}

/** A path of the image resolved inside its rootfs: `..` never climbs out of it. */
function inRootfs(rootfs: string, path: string): string {
  return join(rootfs, posix.resolve('/', path));
}

/** The program as runc finds it: a path (from the rootfs or the working dir), else on $PATH. */
function findProgram(rootfs: string, cwd: string, first: string, path: string): string | undefined {
  if (first.includes('/')) {
    const candidate = isAbsolute(first) ? inRootfs(rootfs, first) : inRootfs(rootfs, posix.join(cwd, first));
    return existsSync(candidate) ? candidate : undefined;
  }
  return path
    .split(':')
    .filter((dir) => dir !== '')
    .map((dir) => join(inRootfs(rootfs, dir), first))
    .find((candidate) => existsSync(candidate));
}

/**
 * The launch of `container` from its unpacked image, with `env` the container's environment as
 * the kubelet built it (env/envFrom/valueFrom, with the pod's local PORT already in it): argv by
 * Kubernetes' command/args rules, the working directory (`workingDir`, else the image's) inside
 * the rootfs, the image's Env overlaid by the container's (container runtimes apply the image's
 * first), and HOSTNAME set to the pod's name first, as container runtimes set it. Errors name
 * what the manifest or image wrote, before `$(VAR)` expansion, so no value reaches a message.
 */
export function planLaunch(
  image: PulledImage,
  container: Container,
  env: ReadonlyMap<string, string>,
  podName: string,
): ContainerLaunch {
  const settings = image.config.config;
  const argv = containerArgv(settings, container, env);
  const written = containerArgv(settings, container, new Map()) ?? [];
  if (argv === undefined || argv[0] === undefined || argv[0] === '')
    throw new ContainerStartError('RunContainerError: no command specified');
  const merged = new Map([['HOSTNAME', podName], ...imageEnv(image), ...env]);
  const workingDir = container.workingDir ?? settings.WorkingDir ?? '/';
  const cwd = inRootfs(image.rootfs, workingDir === '' ? '/' : workingDir);
  if (!existsSync(cwd) || !statSync(cwd).isDirectory())
    throw new ContainerStartError(
      `RunContainerError: the working directory ${workingDir} is not a directory of the image`,
    );
  const program = findProgram(
    image.rootfs,
    posix.resolve('/', workingDir),
    argv[0],
    merged.get('PATH') ?? '/usr/bin:/bin',
  );
  if (program === undefined)
    throw new ContainerStartError(
      `RunContainerError: exec: ${JSON.stringify(written[0] ?? '')}: executable file not found in $PATH`,
    );
  return { program, args: argv.slice(1), cwd, env: Object.fromEntries(merged) };
}
