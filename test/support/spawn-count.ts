import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { expect } from 'vitest';

/**
 * JSM_TEST_SPAWN_LOG=<file>: every process a test file starts (the CLI, node children, bash,
 * python, mount, unshare, tinyproxy …) is one line of the file: the test file, then the command.
 * To count the files that start processes: `cut -f1 <file> | sort -u | wc -l`.
 */
const log = process.env.JSM_TEST_SPAWN_LOG;
if (log) {
  const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>;
  for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
    const original = childProcess[name] as (...args: unknown[]) => unknown;
    if ((original as { counted?: boolean }).counted) continue;
    const counted = function (this: unknown, ...args: unknown[]): unknown {
      let file = '?';
      try {
        file = expect.getState().testPath ?? '?';
      } catch {
        // Outside a test (a hook of a shared helper): the file is unknown.
      }
      appendFileSync(log, `${file}\t${name} ${String(args[0])}\n`);
      return original.apply(this, args);
    };
    childProcess[name] = Object.assign(counted, { counted: true });
  }
  syncBuiltinESMExports();
}
