/**
 * Defaults the CLI shows in --help. They live apart from their use-cases so that printing help
 * (or running a light command) does not load the registry, the image builder or the cluster.
 */
export const DEFAULT_BASE = 'node:24-bookworm-slim';
