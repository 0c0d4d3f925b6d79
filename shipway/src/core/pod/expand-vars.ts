/**
 * Kubernetes' `$(VAR)` expansion, as the kubelet applies it to env values, `command` and `args`
 * (third_party/forked/golang/expansion/expand.go, whose test table expand_test.go this follows):
 * `$(NAME)` becomes the variable's value when it is defined and stays as written when it is
 * not; `$$` is an escaped `$` (so `$$(NAME)` gives `$(NAME)` literally); any other `$` — `$NAME`,
 * `${NAME}`, an unterminated `$(` — passes through unchanged. No nesting, no shell syntax.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let cursor = 0;
  while (cursor < input.length) {
    const dollar = input.indexOf('$', cursor);
    if (dollar === -1 || dollar === input.length - 1) break;
    out += input.slice(cursor, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      out += '$';
      cursor = dollar + 2;
    } else if (next === '(') {
      const close = input.indexOf(')', dollar + 2);
      if (close === -1) {
        // An unterminated reference is copied as written; scanning goes on after the `$(`.
        out += '$(';
        cursor = dollar + 2;
      } else {
        const name = input.slice(dollar + 2, close);
        out += lookup(name) ?? `$(${name})`;
        cursor = close + 1;
      }
    } else {
      out += `$${next}`;
      cursor = dollar + 2;
    }
  }
  return out + input.slice(cursor);
}
