import { createHash, type Hash, randomBytes } from 'node:crypto';

const UPLOAD_ID = /^[a-f0-9]{32}$/;

/** The default time an unfinished upload may sit idle before it is dropped. */
export const DEFAULT_UPLOAD_TTL_MS = 60 * 60 * 1000;

export interface UploadSession {
  readonly id: string;
  readonly repo: string;
  hash: Hash;
  size: number;
  /** A request is appending to (or finishing) this upload; nobody else may until it is done. */
  writing: boolean;
  /** When the last request on this session ended (or when it started). */
  idleSince: number;
}

/** The result of asking to write to an upload: the session, or why not, with its current size. */
export type UploadClaim =
  | { readonly kind: 'claimed'; readonly session: UploadSession }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'busy' | 'out-of-order'; readonly size: number };

/**
 * The upload sessions of one registry process. A session takes one writer at a time: the
 * distribution spec has chunks arrive in order, each starting where the last ended (spec.md,
 * "Pushing a blob in chunks"), which two concurrent writers cannot both do, so a second writer is
 * refused like an out-of-order chunk (416 with the current range) instead of interleaving bytes.
 *
 * Unfinished sessions expire once idle for `ttlMs` (the spec: "the server SHOULD eventually
 * timeout unfinished uploads"). Idle, not age, because a slow but live upload of a large layer is
 * not abandoned; a session with a writer in progress never expires.
 */
export class UploadSessions {
  private readonly table = new Map<string, UploadSession>();

  constructor(
    readonly ttlMs: number = DEFAULT_UPLOAD_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  open(repo: string): UploadSession {
    const session = {
      id: randomBytes(16).toString('hex'),
      repo,
      hash: createHash('sha256'),
      size: 0,
      writing: false,
      idleSince: this.now(),
    };
    this.table.set(session.id, session);
    return session;
  }

  /** The live session `id` of `repo`; an expired one is already gone for callers. */
  find(id: string, repo: string): UploadSession | undefined {
    if (!UPLOAD_ID.test(id)) return undefined;
    const session = this.table.get(id);
    if (session === undefined || session.repo !== repo || this.isExpired(session)) return undefined;
    return session;
  }

  /**
   * Takes the session for one writer. Synchronous on purpose: the check and the claim happen in
   * one turn of the event loop, so two requests can never both see the session free.
   * `start` is the first byte of the request's Content-Range, when it sent one.
   */
  claim(id: string, repo: string, start?: number): UploadClaim {
    const session = this.find(id, repo);
    if (session === undefined) return { kind: 'unknown' };
    if (session.writing) return { kind: 'busy', size: session.size };
    if (start !== undefined && start !== session.size) return { kind: 'out-of-order', size: session.size };
    session.writing = true;
    return { kind: 'claimed', session };
  }

  release(session: UploadSession): void {
    session.writing = false;
    session.idleSince = this.now();
  }

  close(session: UploadSession): void {
    if (this.table.get(session.id) === session) this.table.delete(session.id);
  }

  isOpen(session: UploadSession): boolean {
    return this.table.get(session.id) === session;
  }

  /** Removes and returns the sessions idle for longer than the TTL, so their files can go. */
  takeExpired(): UploadSession[] {
    const expired = [...this.table.values()].filter((session) => this.isExpired(session));
    for (const session of expired) this.table.delete(session.id);
    return expired;
  }

  private isExpired(session: UploadSession): boolean {
    return !session.writing && this.now() - session.idleSince >= this.ttlMs;
  }
}
