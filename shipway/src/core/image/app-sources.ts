/**
 * What a service without a build step ships (build.output "."): every top-level entry of its
 * package directory except these, which are never part of the running app: dependencies (the
 * image has its own production node_modules layer), Git and shipway state, the delivery files,
 * and dotfiles (.env and friends must never end up in an image). `shipway init` lists the same
 * entries as the build inputs, so the image tag (a hash of the inputs) changes exactly when
 * what the image ships does.
 */
const NOT_APP = new Set(['node_modules', 'deployment', 'shipway.yaml', 'Dockerfile', 'npm-debug.log', 'coverage']);

export function isAppSource(topLevelName: string): boolean {
  return !topLevelName.startsWith('.') && !NOT_APP.has(topLevelName);
}
