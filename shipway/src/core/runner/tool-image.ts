import { parseImageRef } from '../image-ref.js';
import { type CiMap, isCiMap } from '../pipeline/ci-yaml.js';

/** The name of the job's `image` (a string or `image:name`), as written; undefined without one. */
export function imageNameOf(definition: CiMap): string | undefined {
  const image = definition.image;
  if (typeof image === 'string') return image;
  if (isCiMap(image) && typeof image.name === 'string') return image.name;
  return undefined;
}

/**
 * Whether an image (its name with variables expanded) is shipway's tool image: a repository whose
 * last path component is `shipway` (`registry.example.com/platform/shipway/shipway:0.2.0`,
 * `$CI_REGISTRY_IMAGE/shipway:…`), the name `shipway image build-tool` publishes under.
 */
export function isToolImage(name: string): boolean {
  try {
    return parseImageRef(name).repository.split('/').pop() === 'shipway';
  } catch {
    return false;
  }
}
