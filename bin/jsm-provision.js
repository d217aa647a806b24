#!/usr/bin/env node
// The interrupt handler comes first: a signal that arrives while the rest loads ends the same way.
import { interruptSignal } from '../dist/cli/signals.js';
interruptSignal();
const { main } = await import('../dist/cli/main.js');
await main(process.argv);
// A command that has ended never waits for a call that cannot return (a file system that stopped
// answering after a preflight check timed out): its exit code is set, so the process ends.
setTimeout(() => process.exit(), 2000).unref();
