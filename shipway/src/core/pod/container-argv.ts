import { expandVars } from './expand-vars.js';

export interface ImageProcess {
  readonly Entrypoint?: readonly string[] | null | undefined;
  readonly Cmd?: readonly string[] | null | undefined;
}

export interface ContainerProcess {
  readonly command?: readonly string[] | undefined;
  readonly args?: readonly string[] | undefined;
}

/**
 * The argv a container runs, by Kubernetes' rules ("Define a Command and Arguments for a
 * Container", the table of four cases; kubelet's ExpandContainerCommandAndArgs, then the CRI
 * runtime's merge with the image config):
 * - neither `command` nor `args`: the image's Entrypoint + Cmd;
 * - `command` (with or without `args`): `command` + `args`, the image's Entrypoint and Cmd unused;
 * - `args` only: the image's Entrypoint + `args` (the image's Cmd unused).
 * `$(VAR)` in `command` and `args` expands from the container's environment as kubelet built it
 * (`env`/`envFrom`, not the image's Env); the image's own Entrypoint and Cmd are never expanded.
 * An empty result is undefined: the runtime refuses it ("no command specified").
 */
export function containerArgv(
  image: ImageProcess,
  container: ContainerProcess,
  env: ReadonlyMap<string, string>,
): string[] | undefined {
  const lookup = (name: string) => env.get(name);
  const command = (container.command ?? []).map((part) => expandVars(part, lookup));
  const args = (container.args ?? []).map((part) => expandVars(part, lookup));
  const argv =
    command.length > 0
      ? [...command, ...args]
      : [...(image.Entrypoint ?? []), ...(args.length > 0 ? args : (image.Cmd ?? []))];
  return argv.length === 0 ? undefined : argv;
}
