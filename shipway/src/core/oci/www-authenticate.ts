/**
 * A parsed `WWW-Authenticate` challenge (RFC 7235), as registries send it: `Basic realm="…"` or
 * `Bearer realm="…",service="…",scope="…"` (distribution's token authentication spec).
 */
export interface Challenge {
  readonly scheme: 'basic' | 'bearer' | 'other';
  readonly params: Readonly<Record<string, string>>;
}

export function parseChallenge(header: string | null): Challenge | undefined {
  if (header === null) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const scheme = (match[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const param of (match[2] ?? '').matchAll(pattern)) {
    params[(param[1] ?? '').toLowerCase()] = (param[2] ?? param[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: scheme === 'basic' || scheme === 'bearer' ? scheme : 'other', params };
}
