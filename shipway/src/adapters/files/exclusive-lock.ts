import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { ExternalError } from '../../core/errors.js';
import { processAlive } from '../process/process-alive.js';
import { type ProcessIdentity, processStat, sameProcessRunning } from '../process/process-stat.js';

/** Who holds a lock: a process, told apart from a later one that reuses its pid. */
export interface LockHolder {
  readonly pid: number;
  readonly process?: ProcessIdentity | undefined;
  readonly purpose: string;
}

export type LockAttempt =
  | { readonly acquired: true; readonly release: () => Promise<void> }
  | { readonly acquired: false; readonly holder: LockHolder };

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return typeof value.pid === 'number'
      ? { pid: value.pid, process: value.process, purpose: `${value.purpose}` }
      : undefined;
  } catch {
    return undefined;
  }
}

/** A holder whose process is gone (killed, crashed, the machine rebooted) no longer holds anything. */
export function holderAlive(holder: LockHolder): boolean {
  return holder.process === undefined ? processAlive(holder.pid) : sameProcessRunning(holder.pid, holder.process);
}

const errno = (error: unknown) => (error as NodeJS.ErrnoException).code;
const suffix = () => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** link(2) publishes a complete file or fails with EEXIST: the lock is never seen half-written. */
async function publish(path: string, text: string): Promise<boolean> {
  const temporary = `${path}.new-${suffix()}`;
  await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Moves a stale lock (`seen`) aside. rename(2) is atomic, so of several processes that found the
 * same stale lock only one moves it; if what it moved is no longer `seen` (another process took
 * the lock in between), it puts that lock back.
 */
async function breakStale(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale-${suffix()}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errno(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => undefined);
  if (moved !== seen) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

/**
 * Takes the lock file at `path` for this process, or says which live process holds it. A lock
 * left by a process that died is taken over. Released by `release()`, or by this process exiting.
 */
export async function tryLock(path: string, purpose: string): Promise<LockAttempt> {
  const stat = processStat(process.pid);
  const mine = JSON.stringify({
    pid: process.pid,
    process: stat === undefined ? undefined : { startTime: stat.startTime, bootId: stat.bootId },
    purpose,
  });
  for (let attempt = 0; attempt < 8; attempt += 1) {
    if (await publish(path, mine)) return { acquired: true, release: () => releaseLock(path, mine) };
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const holder = parseHolder(text);
    if (holder !== undefined && holderAlive(holder)) return { acquired: false, holder };
    await breakStale(path, text);
  }
  throw new ExternalError('LOCK_CONTENDED', `could not take the lock ${path}: it kept changing hands`, {
    hint: 'try again',
  });
}

/** Waits for the lock (polling), up to `timeoutMs`. */
export async function waitForLock(path: string, purpose: string, timeoutMs: number) {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const attempt = await tryLock(path, purpose);
    if (attempt.acquired) return attempt.release;
    if (Date.now() > deadline)
      throw new ExternalError(
        'LOCK_BUSY',
        `${path} is held by pid ${attempt.holder.pid} (${attempt.holder.purpose}) for more than ${timeoutMs / 1000} s`,
        { hint: 'wait for that process to finish, or stop it' },
      );
    await new Promise((done) => setTimeout(done, 50 + Math.random() * 50));
  }
}

async function releaseLock(path: string, mine: string): Promise<void> {
  // Only our own lock: after a takeover by mistake the file could be another process's.
  if ((await readFile(path, 'utf8').catch(() => undefined)) === mine) await unlink(path).catch(() => undefined);
}
