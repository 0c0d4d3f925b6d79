// The only place that sets the exit code and handles signals.
import { createInterface } from 'node:readline/promises';
import { runCli } from './run-cli.js';

/** A question on the terminal, only when there is one. */
async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

// A reader that stops early (`shipway … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// SIGINT and SIGTERM keep their default (end the process at once) unless the command asks to
// clean up first: a handler would only run between two turns of the event loop, so a command busy
// with synchronous work (parsing, planning) could not be stopped at all.
const controller = new AbortController();
const stop = (signal: NodeJS.Signals) => {
  if (controller.signal.aborted) {
    process.stderr.write(`shipway: ${signal} again; exiting now\n`);
    process.exit(130);
  }
  controller.abort();
};
let handling = false;
const interruption = () => {
  if (!handling) {
    handling = true;
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  return controller.signal;
};

const code = await runCli(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interruption,
  ...(process.stdin.isTTY === true ? { ask } : {}),
});
process.exitCode = code;
// The command is over: flush what it printed, then exit, so that a socket a client library keeps
// alive (the Kubernetes watch's keep-alive agent) cannot hold a CI job open.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
