import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

/** What a request wants: the registry's base endpoint, or one repository for pull or push. */
export type Access = { readonly repo: null } | { readonly repo: string; readonly action: 'pull' | 'push' };

export type AuthDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly challenge: string };

export interface RegistryAuth {
  check(authorization: string | undefined, access: Access): Promise<AuthDecision>;
}

export const anonymousAuth: RegistryAuth = { check: async () => ({ ok: true }) };

/**
 * Basic auth against an htpasswd file of bcrypt entries (`htpasswd -B`), as the distribution
 * registry's htpasswd backend does. Verified credentials are remembered by hash, because bcrypt
 * is deliberately slow and clients authenticate every request.
 */
export async function htpasswdAuth(file: string, realm = 'shipway'): Promise<RegistryAuth> {
  const users = new Map<string, string>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const hash = line.slice(at + 1).trim();
    if (!/^\$2[aby]\$/.test(hash))
      throw new Error(`htpasswd entry for ${line.slice(0, at)} is not bcrypt (use htpasswd -B)`);
    users.set(line.slice(0, at), hash.replace(/^\$2y\$/, '$2b$'));
  }
  const verified = new Set<string>();
  const challenge = `Basic realm="${realm}"`;
  return {
    async check(authorization) {
      if (authorization?.startsWith('Basic ') !== true) return { ok: false, status: 401, challenge };
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const at = decoded.indexOf(':');
      const user = decoded.slice(0, at);
      const hash = users.get(user);
      if (at <= 0 || hash === undefined) return { ok: false, status: 401, challenge };
      const key = createHash('sha256').update(`${hash}\0${decoded}`).digest('hex');
      if (verified.has(key) || (await bcrypt.compare(decoded.slice(at + 1), hash))) {
        verified.add(key);
        return { ok: true };
      }
      return { ok: false, status: 401, challenge };
    },
  };
}

interface TokenClaims {
  readonly exp?: number;
  readonly aud?: string | string[];
  readonly access?: readonly { readonly type: string; readonly name: string; readonly actions: readonly string[] }[];
}

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

/** Verifies an HS256 JWT and returns its claims, or undefined. */
export function verifyToken(token: string, secret: string, now: number): TokenClaims | undefined {
  const [header, payload, signature] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined) return undefined;
  try {
    const head = decodeSegment(header) as { alg?: string };
    if (head.alg !== 'HS256') return undefined;
    const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const claims = decodeSegment(payload) as TokenClaims;
    if (claims.exp !== undefined && claims.exp * 1000 < now) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

/**
 * Bearer tokens as in distribution's token authentication spec: a 401 names the token realm,
 * service and scope; the client gets a token there and retries. Tokens are HS256 JWTs signed
 * with a secret shared with the token server (distribution itself uses RS256 certificates).
 */
export function tokenAuth(options: { realm: string; service: string; secret: string }): RegistryAuth {
  return {
    async check(authorization, access) {
      const scope =
        access.repo === null
          ? ''
          : `,scope="repository:${access.repo}:${access.action === 'push' ? 'pull,push' : 'pull'}"`;
      const challenge = `Bearer realm="${options.realm}",service="${options.service}"${scope}`;
      if (authorization?.startsWith('Bearer ') !== true) return { ok: false, status: 401, challenge };
      const claims = verifyToken(authorization.slice(7), options.secret, Date.now());
      if (claims === undefined) return { ok: false, status: 401, challenge };
      const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (claims.aud !== undefined && !audience.includes(options.service)) return { ok: false, status: 401, challenge };
      if (access.repo === null) return { ok: true };
      const granted = (claims.access ?? []).some(
        (entry) => entry.type === 'repository' && entry.name === access.repo && entry.actions.includes(access.action),
      );
      return granted ? { ok: true } : { ok: false, status: 401, challenge: `${challenge},error="insufficient_scope"` };
    },
  };
}
