import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitForLock } from '../../adapters/files/exclusive-lock.js';
import { RefusedError } from '../../core/errors.js';
import { type AppRecord, appRecordSchema, planRegistration } from '../../core/stack/app-record.js';
import { APPS_DIR } from '../../core/stack/stack-paths.js';
import { makePrivate, writePrivateFile } from './state-dir.js';

/** A record file that could not be used, and why (shown by `shipway cluster status`). */
export interface InvalidRecord {
  readonly file: string;
  readonly problem: string;
}

const RECORD_FILE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.json$/;
/** Records are a few hundred bytes; anything far bigger is not one. */
const MAX_RECORD_BYTES = 64 * 1024;

export const appsDirOf = (stateDir: string) => join(stateDir, APPS_DIR);

const isGone = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/** A record, a reason it is not one, or undefined when it was removed while being read (forgotten). */
async function readRecord(dir: string, file: string, key: string): Promise<AppRecord | InvalidRecord | undefined> {
  const path = join(dir, file);
  const info = await lstat(path).catch((error: unknown) => {
    if (isGone(error)) return undefined;
    throw error;
  });
  if (info === undefined) return undefined;
  // Only plain files: a symlink could make the cluster read (and report) any file of the user's.
  if (!info.isFile()) return { file, problem: 'not a regular file' };
  if (info.size > MAX_RECORD_BYTES) return { file, problem: `larger than ${MAX_RECORD_BYTES} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if (isGone(error)) return undefined;
    return { file, problem: 'not valid JSON' };
  }
  const parsed = appRecordSchema.safeParse(value);
  if (!parsed.success)
    return {
      file,
      problem: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    };
  if (parsed.data.key !== key) return { file, problem: `key ${parsed.data.key} does not match the file name` };
  return parsed.data;
}

/** Every app record in the state dir, and the files that are not valid records. */
export async function readAppRecords(stateDir: string): Promise<{ records: AppRecord[]; invalid: InvalidRecord[] }> {
  const dir = appsDirOf(stateDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const records: AppRecord[] = [];
  const invalid: InvalidRecord[] = [];
  for (const name of names.sort()) {
    const key = RECORD_FILE.exec(name)?.[1];
    if (key === undefined) continue;
    const read = await readRecord(dir, name, key).catch((error: unknown) => ({
      file: name,
      problem: error instanceof Error ? error.message : String(error),
    }));
    if (read === undefined) continue;
    if ('problem' in read) invalid.push(read);
    else records.push(read);
  }
  return { records, invalid };
}

/** Under the apps lock: one registration at a time decides against every other record. */
async function withAppsLock<T>(stateDir: string, work: () => Promise<T>): Promise<T> {
  await makePrivate(stateDir);
  await mkdir(appsDirOf(stateDir), { recursive: true, mode: 0o700 });
  const release = await waitForLock(join(stateDir, 'apps.lock'), 'app registration', 10_000);
  try {
    return await work();
  } finally {
    await release();
  }
}

/**
 * Adds or replaces the app's record, unless its name or one of its namespaces belongs to another
 * app of the stack (refused, nothing written). A running cluster picks the file up by itself.
 */
export async function registerApp(stateDir: string, record: AppRecord): Promise<void> {
  await withAppsLock(stateDir, async () => {
    const { records } = await readAppRecords(stateDir);
    const refusal = planRegistration(records, record);
    if (refusal !== undefined) throw new RefusedError(refusal.code, refusal.reason, { hint: refusal.hint });
    await writePrivateFile(join(appsDirOf(stateDir), `${record.key}.json`), `${JSON.stringify(record, null, 2)}\n`);
  });
}

/** Removes every record of `app`; the cluster stops following it and stops its pods. */
export async function forgetApp(stateDir: string, app: string): Promise<AppRecord[]> {
  return withAppsLock(stateDir, async () => {
    const { records } = await readAppRecords(stateDir);
    const mine = records.filter((record) => record.app === app);
    for (const record of mine) await rm(join(appsDirOf(stateDir), `${record.key}.json`), { force: true });
    return mine;
  });
}
