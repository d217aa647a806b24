/**
 * `import-csv -` on a terminal says on stderr that it is waiting for the rows, and how to end them.
 * Runs on a real pseudo-terminal through test/progress/pty-run.py (python3's pty module).
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { storeWith } from './shape.js';

const HARNESS = fileURLToPath(new URL('../progress/pty-run.py', import.meta.url));
const hasPython = spawnSync('python3', ['-c', 'import pty, termios, fcntl'], { stdio: 'ignore' }).status === 0;
if (!hasPython) console.warn('skipping the stdin-terminal test: python3 with the pty module is not on this machine');

describe.skipIf(!hasPython)('import-csv - on a terminal', () => {
  it('says it is waiting for input and that Ctrl-D ends it', async () => {
    const { dir, store } = await storeWith(['ITH']);
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' };
    for (const name of ['JSM_TARGET', 'JSM_PROJECT', 'JSM_CONFIG', 'JSM_PROFILE']) delete env[name];
    const child = spawn('python3', [HARNESS, '80', process.execPath, BIN, 'import-csv', '-', '--project', 'ITH', '--target', store, '--no-invite'], { cwd: dir, env, stdio: 'pipe' });
    let output = '';
    const seen = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ctrl-D')) resolve();
      });
    });
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await Promise.race([seen, closed]);
    child.stdin.write('TERM\n');
    await closed;
    expect(output).toMatch(/reading CSV from standard input \(the terminal\).*Ctrl-D to end/);
  });
});
