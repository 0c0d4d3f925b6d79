// Preloaded into each CLI process the plan bench starts (node --import): at exit, the process's
// own CPU time (user + system, Node start-up included) on stderr, so the bench reports CPU time
// beside wall time on a loaded machine.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(`\n@cpu ${(usage.userCPUTime + usage.systemCPUTime) / 1000}\n`);
});
