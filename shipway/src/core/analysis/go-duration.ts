const UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("1m30s", "1.5h", "500ms"), which Argo's DurationString uses; ms or undefined. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const body = text.replace(/^[+-]/, '');
  if (body === '' || !/^(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))*$/.test(body))
    return undefined;
  let total = 0;
  for (const match of body.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g))
    total += Number(match[1]) * (UNITS[match[2] ?? ''] ?? 0);
  return text.startsWith('-') ? -total : total;
}
