// Runs the built CLI (dist) in this process, with the arguments given, and reports what it cost
// on the last line of stderr: `@measure {"code", "ms", "cpuMs", "maxRssKb"}`. `ms` runs from
// before the CLI's modules load to the end of the command (Node's own start-up excluded, which
// on a loaded machine can take a second by itself); maxRssKb is the process's peak resident set.
const started = performance.now();
const { runCli } = await import(new URL('../../dist/cli/run-cli.js', import.meta.url).href);
const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
const ms = performance.now() - started;
const usage = process.resourceUsage();
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stderr.write(`\n@measure ${JSON.stringify({ code, ms, cpuMs, maxRssKb: usage.maxRSS })}\n`, () =>
  process.exit(code),
);
