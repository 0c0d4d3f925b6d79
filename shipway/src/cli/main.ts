// The only place that sets the exit code and handles signals.
import { runCli } from './run-cli.js';

const controller = { interrupted: false };
process.once('SIGINT', () => {
  controller.interrupted = true;
  process.stderr.write('shipway: interrupted\n');
  process.exit(130);
});

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = code;
