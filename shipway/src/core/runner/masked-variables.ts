import { ConfigError } from '../errors.js';

/** GitLab refuses to mask a value shorter than this (doc/ci/variables: "Mask a CI/CD variable"). */
const MIN_MASKED_LENGTH = 8;

/**
 * The names of the variables marked masked in a variables file (`.shipway/variables.env`): a
 * `# masked` comment line right above `NAME=value`, the local stand-in for the "Mask variable"
 * box of a group or project variable. Their values are removed from job logs, as GitLab masks
 * them; a marked value GitLab could not mask (under 8 characters) is refused.
 */
export function maskedValues(text: string, values: ReadonlyMap<string, string>, file: string): string[] {
  const lines = text.split('\n');
  const masked: string[] = [];
  lines.forEach((line, index) => {
    if (!/^\s*#\s*masked\s*$/i.test(line)) return;
    const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(lines[index + 1] ?? '')?.[1];
    if (name === undefined)
      throw new ConfigError('CONFIG_INVALID', `${file}:${index + 1}: "# masked" must be followed by a NAME=value line`);
    const value = values.get(name) ?? '';
    if (value.length < MIN_MASKED_LENGTH)
      throw new ConfigError(
        'CONFIG_INVALID',
        `${file}:${index + 2}: ${name} is marked masked but is shorter than 8 characters`,
        { hint: 'GitLab refuses to mask such a value: use a longer one, or drop the "# masked" line' },
      );
    masked.push(value);
  });
  return masked;
}
