import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeAtomically } from '../adapters/fs/write-atomically.js';

/**
 * What `shipway run` leaves in the checkout (.shipway/local-stack.json, beside its run logs) so
 * that the next commands there address the GitLab stand-in it pushed to (core/config/
 * choose-git-remote.ts). An absolute path: it holds whichever SHIPWAY_HOME the run used.
 */
const markerSchema = z.object({
  remote: z.string().min(1),
  app: z.string(),
  home: z.string(),
});

export type CheckoutStack = z.infer<typeof markerSchema>;

const markerPath = (cwd: string) => join(cwd, '.shipway', 'local-stack.json');

export async function recordCheckoutStack(cwd: string, marker: CheckoutStack): Promise<void> {
  await mkdir(join(cwd, '.shipway'), { recursive: true });
  await writeAtomically(markerPath(cwd), `${JSON.stringify(marker, null, 2)}\n`);
}

/** The marker, if the checkout has a valid one; `gone` when the stand-in it names no longer exists. */
export async function readCheckoutStack(cwd: string): Promise<(CheckoutStack & { gone: boolean }) | undefined> {
  const text = await readFile(markerPath(cwd), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = markerSchema.safeParse(value);
  if (!parsed.success) return undefined;
  return { ...parsed.data, gone: !existsSync(parsed.data.remote) };
}
