#!/usr/bin/env node
// The only place that touches `process`: it builds the run's io, installs the signal handlers,
// calls main and sets the exit code. The interrupts come first: a signal that arrives while the
// rest loads ends the same way (exit 130).
import { writeSync } from 'node:fs';
import { Interrupts } from '../dist/cli/io/io.js';

const interrupts = new Interrupts();
const onSignal = (signal) => {
  if (interrupts.deliver(signal, process.stderr) === 'stop') process.exit(130);
  process.exitCode = 130;
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// `jsm-provision customers list | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import('../dist/cli/program/main.js');
process.exitCode = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  now: () => Date.now(),
  interrupts,
  stopSelf: () => process.kill(process.pid, 'SIGSTOP'),
  writeErrSync: (text) => writeSync(2, text),
});
// A command that has ended never waits for a call that cannot return (a file system that stopped
// answering after a preflight check timed out): its exit code is set, so the process ends.
setTimeout(() => process.exit(), 2000).unref();
