/**
 * The longest app name init derives: the generated names must stay DNS labels of at most 63
 * characters (Kubernetes Service names, RFC 1035), and the longest is `<app>-canary`, next to
 * the namespaces `<prefix>-<environment>`.
 */
export const MAX_APP_NAME = 50;

/** A DNS label that starts with a letter (RFC 1035, as Service names must): `my-app`. */
export const APP_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * An npm package name (or a directory name) as an RFC 1035 label: the scope dropped, lower case,
 * every run of other characters one `-`, leading non-letters and trailing dashes trimmed.
 * `@team/My_Service.v2` → `my-service-v2`. Undefined when nothing usable is left.
 */
export function sanitizeAppName(raw: string): string | undefined {
  const label = raw
    .replace(/^@[^/]*\//, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, MAX_APP_NAME)
    .replace(/-+$/, '');
  return APP_NAME.test(label) ? label : undefined;
}
