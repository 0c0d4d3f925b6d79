import type { ImageRef } from '../image-ref.js';

export interface RegistryLocation {
  /** host[:port] to talk to. */
  readonly registry: string;
  /** the repository path on that registry. */
  readonly repository: string;
}

/**
 * Splits a repository into registry host and path the way Docker does: a first component with a
 * `.` or `:`, or `localhost`, is a host; otherwise the image is on Docker Hub, where single names
 * live under `library/`.
 */
export function locate(ref: Pick<ImageRef, 'repository'>): RegistryLocation {
  const slash = ref.repository.indexOf('/');
  const first = slash === -1 ? '' : ref.repository.slice(0, slash);
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return { registry: first, repository: ref.repository.slice(slash + 1) };
  }
  const path = slash === -1 ? `library/${ref.repository}` : ref.repository;
  return { registry: 'registry-1.docker.io', repository: path };
}
