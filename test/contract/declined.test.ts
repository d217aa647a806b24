/**
 * A confirmation answered "no" at a terminal: exit 130 (the person stopped the run, as Ctrl-C at
 * the question does), nothing written or sent, and under --json one
 * object with error.code "declined" (imports and invitations send alike). The CLI runs on a real
 * pseudo-terminal (python3's pty module), which answers "n" when the question appears.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { storeWith } from './shape.js';

const hasPython = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;
if (!hasPython) console.warn('skipping the declined tests: python3 with the pty module is not on this machine');

/**
 * Runs argv on a pty; when `question` appears, types n and Enter. Prints the output, then the exit
 * code on stderr. With PIPED_STDIN set, the child's stdin is a pipe holding that text instead (rows
 * piped in at a terminal: the pty stays its controlling terminal and its stdout and stderr).
 */
const ANSWER = `
import os, pty, select, sys
question = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    piped = os.environ.get('PIPED_STDIN')
    if piped is not None:
        r, w = os.pipe()
        os.write(w, piped.encode())
        os.close(w)
        os.dup2(r, 0)
    os.execv(sys.argv[2], sys.argv[2:])
out, answered = b'', False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        os.kill(pid, 9)
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not answered and question in out:
        os.write(fd, b'n\\r')
        answered = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.stderr.write(str(os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1))
`;

function answerNo(dir: string, question: string, args: string[], pipedStdin?: string): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'dumb', NO_COLOR: '1', ...(pipedStdin !== undefined ? { PIPED_STDIN: pipedStdin } : {}) };
  for (const name of ['CI', 'JSM_TARGET', 'JSM_PROJECT', 'JSM_CONFIG', 'JSM_PROFILE', 'JSM_SMTP_URL', 'JSM_OUTBOX']) delete env[name];
  const child = spawn('python3', ['-c', ANSWER, question, process.execPath, BIN, ...args], { cwd: dir, env, stdio: 'pipe' });
  let output = '';
  let status = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (status += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve({ code: Number(status.trim()), output: output.replace(/\r\n/g, '\n') }));
  });
}

/** The one JSON object: the pty mixes stderr (and the prompt's escape codes) in, so it is read from where it opens. */
function lastObject(output: string): Record<string, unknown> {
  const start = output.lastIndexOf('{\n  "ok"');
  return JSON.parse(output.slice(start)) as Record<string, unknown>;
}

describe.skipIf(!hasPython)('a declined confirmation', () => {
  it('import-csv: exit 130, one object with error declined, nothing written', async () => {
    const { dir, store } = await storeWith(['ITH']);
    await writeFile(join(dir, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const before = await readFile(store, 'utf8');
    const r = await answerNo(dir, 'Go ahead?', ['import-csv', 'in.csv', '--project', 'ITH', '--target', store, '--json']);
    expect(r.code).toBe(130);
    expect(lastObject(r.output)).toEqual({ ok: false, command: 'import-csv', target: 'local', project: 'ITH', error: { code: 'declined', message: expect.any(String) } });
    expect(await readFile(store, 'utf8')).toBe(before);
    // The question says where the invitation goes: no SMTP server, so the outbox beside the store.
    expect(r.output).toContain(`1 invitation will be written to the outbox ${join(dir, 'outbox')}`);
  });

  it('rows piped in at a terminal (import-csv -): the question is still asked, on the terminal, and "n" writes nothing', async () => {
    const { dir, store } = await storeWith(['ITH']);
    const before = await readFile(store, 'utf8');
    const r = await answerNo(dir, 'Go ahead?', ['import-csv', '-', '--project', 'ITH', '--target', store], 'email,name\nann@example.com,Ann Lee\n');
    expect(r.code).toBe(130);
    expect(r.output).toContain('1 invitation will be written to the outbox');
    expect(r.output).toContain('Nothing was written and nothing was sent.');
    expect(await readFile(store, 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'outbox'))).toBe(false);
  });

  it('invitations send: exit 130, one object with error declined, nothing sent', async () => {
    const { dir, store } = await storeWith(['ITH']);
    await writeFile(join(dir, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const deferred = await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--target', store, '--defer-invites', '--json'], { cwd: dir });
    expect(deferred.code).toBe(0);
    const r = await answerNo(dir, 'invitation(s) for ITH?', ['invitations', 'send', '--project', 'ITH', '--target', store, '--mail-from', 'help@example.com', '--json']);
    expect(r.code).toBe(130);
    expect(lastObject(r.output)).toEqual({ ok: false, command: 'invitations send', target: 'local', project: 'ITH', error: { code: 'declined', message: expect.any(String) } });
    expect(existsSync(join(dir, 'outbox'))).toBe(false);
  });

  it('invitations send --email: the same (exit 130, declined, nothing sent)', async () => {
    const { dir, store } = await storeWith(['ITH']);
    await writeFile(join(dir, 'in.csv'), 'email,name\nann@example.com,Ann Lee\n');
    expect((await runCli(['import-csv', 'in.csv', '--project', 'ITH', '--target', store, '--defer-invites', '--json'], { cwd: dir })).code).toBe(0);
    const r = await answerNo(dir, 'ann@example.com (ITH, now pending)?', ['invitations', 'send', '--project', 'ITH', '--target', store, '--email', 'ann@example.com', '--mail-from', 'help@example.com', '--json']);
    expect(r.code).toBe(130);
    expect(lastObject(r.output)).toEqual({ ok: false, command: 'invitations send', target: 'local', project: 'ITH', email: 'ann@example.com', error: { code: 'declined', message: expect.any(String) } });
    expect(existsSync(join(dir, 'outbox'))).toBe(false);
  });
});

// Another contract case that needs a terminal (a pty): run from this file, which starts the ptys.
import './stdin-terminal.cases.js';
