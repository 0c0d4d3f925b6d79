import type { ExternalTarget } from './include-entry.js';

/**
 * Where an include that is not in the repository is kept in the include directory
 * (`.shipway/includes/` by default; docs/plan.md), as a path relative to it:
 *
 *   projects/<project path>@<ref>/<file>            include: project (no ref: @HEAD, the default branch)
 *   projects/<project path>@<version>/templates/<name>.yml     include: component
 *     (or templates/<name>/template.yml, the component project's own layout)
 *   remote/<host>[:port]/<path>                     include: remote (a query string as %3F…)
 *   templates/<name>                                include: template
 *
 * A ref is written with `%` as `%25` and `/` as `%2F`, so one project's files at two refs never
 * share a directory and a ref cannot climb out of it. A path with an empty, `.` or `..`
 * segment, a backslash, a control character or a NUL is no place in the directory: undefined,
 * for the caller to refuse (the names come from CI files other people write).
 */
export function includeDirPaths(target: ExternalTarget): string[] | undefined {
  switch (target.kind) {
    case 'component': {
      const base = projectDir(target.project, target.version);
      const name = safePath(target.name);
      if (base === undefined || name === undefined || name.includes('/')) return undefined;
      return [`${base}/templates/${name}.yml`, `${base}/templates/${name}/template.yml`];
    }
    case 'project': {
      const base = projectDir(target.project, target.ref ?? 'HEAD');
      const file = safePath(target.file.replace(/^\/+/, ''));
      return base === undefined || file === undefined ? undefined : [`${base}/${file}`];
    }
    case 'remote':
      return remotePath(target.url);
    case 'template': {
      const name = safePath(target.name);
      return name === undefined ? undefined : [`templates/${name}`];
    }
  }
}

/** `projects/<project>@<ref>` for a project's files at a ref, or undefined for a hostile name. */
export function projectDir(project: string, ref: string): string | undefined {
  const path = safePath(project);
  if (path === undefined || ref === '' || hasControlOrBackslash(ref) || ref === '.' || ref === '..') return undefined;
  return `projects/${path}@${encodeRef(ref)}`;
}

export function encodeRef(ref: string): string {
  return ref.replace(/%/g, '%25').replace(/\//g, '%2F');
}

function remotePath(url: string): string[] | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const query = parsed.search === '' ? '' : encodeURIComponent(parsed.search);
  const path = safePath(decodeSegments(parsed.pathname.replace(/^\/+/, '')));
  if (path === undefined || parsed.host === '') return undefined;
  return [`remote/${parsed.host}/${path}${query}`];
}

/** URL path segments decoded (a file name on disk), undefined if one decodes to a separator. */
function decodeSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        const decoded = decodeURIComponent(segment);
        return decoded.includes('/') ? '\u0000' : decoded;
      } catch {
        return '\u0000';
      }
    })
    .join('/');
}

/** A control character (NUL included) or a backslash, which no name in the directory may hold. */
function hasControlOrBackslash(text: string): boolean {
  for (const char of text) if (char === '\\' || char.charCodeAt(0) < 0x20 || char === '\u007f') return true;
  return false;
}

/** A relative path whose every segment is a plain name, or undefined. */
function safePath(path: string): string | undefined {
  if (path === '' || path.startsWith('/') || hasControlOrBackslash(path)) return undefined;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return undefined;
  return path;
}
