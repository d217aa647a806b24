/**
 * Progress on terminals that cannot be drawn on: a pty that reports 0 columns (what `script` and
 * some CI runners give), and no terminal at all. The built CLI runs on a real pseudo-terminal made
 * by test/progress/pty-run.py (python3's pty module: no native Node module, nothing to install).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { useProjectDir, useSmtpSink } from '../support/e2e.js';

const HARNESS = fileURLToPath(new URL('./pty-run.py', import.meta.url));
const smtp = useSmtpSink();
const projectDir = useProjectDir();
let dir: string;
beforeEach(async () => {
  dir = projectDir();
  const rows = Array.from({ length: 300 }, (_, i) => `user${i}@example.com,User ${i}`);
  await writeFile(join(dir, 'customers.csv'), `email,full name\n${rows.join('\n')}\n`);
});

/** Output bigger than this would be a spinner gone wild (300 rows print well under 10 KB). */
const BOUNDED = 64 * 1024;
const ESC = '\u001b';

interface PtyRun {
  /** Resolves with everything seen so far once `text` appears in the terminal's output. */
  seen(text: string): Promise<string>;
  /** Sends SIGTERM to the CLI. */
  term(): void;
  done: Promise<{ code: number | null; signal: number | null; bytes: number; output: string }>;
}

function onPty(columns: number | 'unsized', args: string[], extraEnv: NodeJS.ProcessEnv = {}): PtyRun {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', PTY_RUN_MAX_BYTES: String(BOUNDED) };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR', 'JSM_TARGET', 'JSM_SMTP_URL', 'JSM_MAIL_FROM', 'JSM_OUTBOX']) delete env[name];
  Object.assign(env, extraEnv);
  const child = spawn('python3', [HARNESS, String(columns), process.execPath, BIN, ...args], { cwd: dir, env, stdio: 'pipe' });
  let output = '';
  let status = '';
  let waiting: { text: string; resolve: (s: string) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    const met = waiting.filter((w) => output.includes(w.text));
    waiting = waiting.filter((w) => !output.includes(w.text));
    for (const w of met) w.resolve(output);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (status += chunk));
  const done = new Promise<{ code: number | null; signal: number | null; bytes: number; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      const last = status.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...(JSON.parse(last) as { code: number | null; signal: number | null; bytes: number }), output });
      } catch {
        reject(new Error(`the pty harness failed: ${status}`));
      }
    });
  });
  const ended = done.then(
    (r) => Promise.reject(new Error(`the CLI ended (code ${r.code}, signal ${r.signal}) before writing the awaited text`)),
    (error: unknown) => Promise.reject(error),
  );
  ended.catch(() => undefined);
  return {
    seen: (text) =>
      output.includes(text) ? Promise.resolve(output) : Promise.race([new Promise<string>((resolve) => waiting.push({ text, resolve })), ended]),
    term: () => child.stdin.write('TERM\n'),
    done,
  };
}

const hasPython = spawnSync('python3', ['-c', 'import pty, termios, fcntl'], { stdio: 'ignore' }).status === 0;
if (!hasPython) console.warn('skipping the pty tests: python3 with the pty module is not on this machine');

describe.runIf(hasPython)('progress on a pty with 0 columns, or none', () => {
  it('300 rows with invitations finish with plain progress lines, bounded output and exit 0', async () => {
    const run = onPty(0, ['import-csv', 'customers.csv', '--project', 'ITH', '--yes', '--concurrency', '32', ...smtp.mail()]);
    const { code, signal, bytes, output } = await run.done;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(bytes).toBeLessThan(BOUNDED);
    expect(output).toContain('sending invitations 300/300');
    expect(output).toMatch(/300 rows: .*300 created/);
    // Plain lines: no cursor movement, no line clearing.
    expect(output).not.toMatch(new RegExp(`${ESC}\\[(\\d*[AGK]|\\?25l)`));
    expect(smtp.sink.messages).toHaveLength(300);
  });

  it('on a pty whose size was never set, SIGTERM ends the run while invitations are being sent', async () => {
    smtp.sink.setFaults({ refuse: null, dropAfterData: false, acceptDelayMs: 150, dropOnMailFrom: 0 });
    // Plain lines every 100 ms (test setting plain-line-ms; users get one every 2 s): the first line of
    // the sending comes 100 ms after the last of the provisioning, not 2 s. (The setting also prints the
    // test-hook lines: plain text, no escape codes.)
    const run = onPty('unsized', ['import-csv', 'customers.csv', '--project', 'ITH', '--yes', ...smtp.mail()], { JSM_PROVISION_TEST_HOOKS: 'plain-line-ms=100' });
    // Plain lines on this terminal too: the first one says sending has begun.
    await run.seen('sending invitations');
    run.term();
    const { code, bytes, output } = await run.done;
    expect(output).toContain('SIGTERM: finishing the rows in flight, then stopping');
    expect(code).toBe(130);
    expect(bytes).toBeLessThan(BOUNDED);
    expect(output).not.toMatch(new RegExp(`${ESC}\\[(\\d*[AGK]|\\?25l)`));
    expect(smtp.sink.messages.length).toBeLessThan(300);
  });
});

describe.runIf(hasPython)('progress on an 80-column pty', () => {
  it('draws a spinner, in no colour at all under NO_COLOR', async () => {
    // 60 rows (not the 300 of the others): the spinner is drawn from the first progress after ora has
    // loaded, and 60 invitations over SMTP are many turns of the event loop after that.
    const rows = Array.from({ length: 60 }, (_, i) => `spin${i}@example.com,Spin ${i}`);
    await writeFile(join(dir, 'few.csv'), `email,full name\n${rows.join('\n')}\n`);
    const run = onPty(80, ['import-csv', 'few.csv', '--project', 'ITH', '--yes', '--concurrency', '32', ...smtp.mail()], { NO_COLOR: '1' });
    const { code, output } = await run.done;
    expect(code).toBe(0);
    expect(output).toContain('60 created');
    expect(smtp.sink.messages).toHaveLength(60);
    // Cursor movement for the spinner, but no colour (SGR) sequence anywhere.
    expect(output).toMatch(new RegExp(`${ESC}\\[(\\d*[AGK]|\\?25l)`));
    expect(output).not.toMatch(new RegExp(`${ESC}\\[[0-9;]*m`));
  });
});

describe('progress without a terminal', () => {
  it('prints no progress and no escape codes; the run ends with exit 0', async () => {
    const r = await runCli(['import-csv', 'customers.csv', '--project', 'ITH', '--no-invite'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout).not.toContain(ESC);
    expect(r.stderr).not.toContain('provisioning');
    expect(r.stdout).toMatch(/300 rows: .*300 created/);
  });
});
