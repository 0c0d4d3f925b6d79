import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../core/loopback-host.js';

export const SESSION_COOKIE = 'shipway_session';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_TTL_MS = 12 * 3600_000;
const MAX_SESSIONS = 256;

/** 256 random bits, base64url: tokens, session ids and CSRF tokens alike. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares over SHA-256 digests in constant time, so neither content nor length leaks through timing. */
export function secretsEqual(presented: string, expected: string): boolean {
  return presented !== '' && expected !== '' && timingSafeEqual(digest(presented), digest(expected));
}

/**
 * The Host header check against DNS rebinding: a page on attacker.example that rebinds its name
 * to 127.0.0.1 still sends `Host: attacker.example`. Accepted: the bound port, and as host an IP
 * literal or `localhost` (a loopback one when the dashboard is bound to loopback), or a name the
 * user allowed with --allowed-host. A browser never sends an IP literal for a name it resolved.
 */
export function hostAllowed(
  header: string | undefined,
  bound: { host: string; port: number },
  allowedNames: readonly string[] = [],
): boolean {
  if (header === undefined || header === '' || /[\s/\\@?#]/.test(header)) return false;
  let url: URL;
  try {
    url = new URL(`http://${header}`);
  } catch {
    return false;
  }
  if ((url.port === '' ? 80 : Number(url.port)) !== bound.port) return false;
  const name = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allowedNames.some((allowed) => allowed.toLowerCase() === name)) return true;
  const literal = isIP(name) !== 0 || name === 'localhost';
  if (!literal) return false;
  return isLoopbackHost(bound.host) ? isLoopbackHost(name) : true;
}

/** Whether a cookie-authenticated POST comes from the dashboard's own page (Origin and Sec-Fetch-Site). */
export function sameOrigin(origin: string | undefined, secFetchSite: string | undefined, host: string): boolean {
  if (secFetchSite !== undefined && secFetchSite !== 'same-origin') return false;
  return origin === `http://${host}`;
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly expires: number;
  /** Shown in the audit log instead of the session id: the first 8 hex digits of its SHA-256. */
  readonly label: string;
}

/**
 * Sessions minted by exchanging the access token. The printed token is single-use: once
 * exchanged it is gone, so a token read later from a terminal's scrollback or a shell history
 * opens nothing. A token from SHIPWAY_DASHBOARD_TOKEN is the user's own secret and stays valid
 * (it also works as `Authorization: Bearer` for scripts).
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private oneTime: string | null;

  constructor(
    oneTimeToken: string | null,
    private readonly standingToken: string | null,
    private readonly now: () => number = Date.now,
  ) {
    this.oneTime = oneTimeToken;
  }

  /** Exchanges a token for a new session; null when the token is wrong or already used. */
  exchange(token: string): Session | null {
    const standing = this.standingToken !== null && secretsEqual(token, this.standingToken);
    const once = this.oneTime !== null && secretsEqual(token, this.oneTime);
    if (!standing && !once) return null;
    if (once) this.oneTime = null;
    this.sweep();
    const id = newSecret();
    const session = {
      id,
      csrf: newSecret(),
      expires: this.now() + SESSION_TTL_MS,
      label: `session:${digest(id).toString('hex').slice(0, 8)}`,
    };
    this.sessions.set(digest(id).toString('hex'), session);
    return session;
  }

  find(id: string | undefined): Session | null {
    if (id === undefined || id === '') return null;
    const session = this.sessions.get(digest(id).toString('hex'));
    if (session === undefined || session.expires <= this.now()) return null;
    return session;
  }

  /** Whether `Authorization: Bearer <token>` carries the standing token. */
  bearer(header: string | undefined): boolean {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header?.trim() ?? '');
    return this.standingToken !== null && match?.[1] !== undefined && secretsEqual(match[1], this.standingToken);
  }

  private sweep(): void {
    for (const [key, session] of this.sessions) if (session.expires <= this.now()) this.sessions.delete(key);
    while (this.sessions.size >= MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
  }
}

/**
 * Failed token attempts per client address and in total, in a sliding minute: past the limit
 * every attempt is refused (429) without being checked, so the token cannot be guessed.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private all: number[] = [];

  constructor(
    private readonly perAddress = 5,
    private readonly total = 20,
    private readonly now: () => number = Date.now,
  ) {}

  blocked(address: string): boolean {
    const since = this.now() - 60_000;
    this.all = this.all.filter((at) => at > since);
    const mine = (this.failures.get(address) ?? []).filter((at) => at > since);
    this.failures.set(address, mine);
    return mine.length >= this.perAddress || this.all.length >= this.total;
  }

  failed(address: string): void {
    const at = this.now();
    this.all.push(at);
    this.failures.set(address, [...(this.failures.get(address) ?? []), at]);
  }
}

/** The cookie for a session: HttpOnly (no script reads it), SameSite=Strict (no cross-site request carries it). */
export function sessionCookie(session: Session): string {
  return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

/** Sent with every answer: a strict CSP without inline scripts or styles, no framing, no referrer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};
