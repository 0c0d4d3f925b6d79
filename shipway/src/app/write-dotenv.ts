import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AppContext } from './context.js';

/** The variables later jobs read from a GitLab `artifacts:reports:dotenv` file. */
export async function writeDotenv(
  context: AppContext,
  file: string,
  repository: string,
  tag: string,
  digest: string,
): Promise<void> {
  const lines = [
    `IMAGE_REPOSITORY=${repository}`,
    `IMAGE_TAG=${tag}`,
    `IMAGE_DIGEST=${digest}`,
    `IMAGE_REF=${repository}:${tag}@${digest}`,
  ];
  await writeFile(resolve(context.cwd, file), `${lines.join('\n')}\n`);
}
