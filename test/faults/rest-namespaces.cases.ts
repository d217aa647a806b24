/**
 * REST runs in fresh PID namespaces (as in CI containers): every run there has the same pid (1), so
 * a killed run's intents cannot be told from a live run's by a pid. A run killed -9 after some
 * creates, and the same command again in another fresh namespace: every new customer invited once or
 * listed in doubt, none lost. Needs `unshare` and root (skipped otherwise).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { createdTwice } from '../support/jsm-double.js';
import { useSmtpSink } from '../support/e2e.js';
import { useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--version']).status === 0;

/** The built CLI as pid 1 of a new PID namespace; `kill()` kills it -9 (from outside). */
function startInNamespace(args: string[], cwd: string, env: Record<string, string>): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(): void } {
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, BIN, ...args], {
    cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 137 : null), stdout, stderr })));
  return {
    done,
    kill() {
      // The namespace's pid 1 (the CLI), by its pid out here: unshare then ends as it did.
      const inner = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number)[0];
      if (inner) process.kill(inner, 'SIGKILL');
    },
  };
}

describe.skipIf(!canUnshare)('REST runs as pid 1 of fresh PID namespaces', () => {
  it('a run killed -9 after some creates, re-run in another namespace with the same pid: every new customer invited once or in doubt', async () => {
    const NEW = 40;
    let kill: (() => void) | undefined;
    const run = await start({ latencyMs: 1, onCreate: (count) => { if (count === 12) kill?.(); } });
    const emails = Array.from({ length: NEW }, (_, i) => `n${i}@example.com`);
    await writeFile(join(run.dir, 'in.csv'), `email,full name\n${emails.map((e, i) => `${e},Name ${i}`).join('\n')}\n`);
    const args = ['import-csv', 'in.csv', '--project', 'ITH', '--json', ...smtp.mail()];
    const env = { JSM_TARGET: run.jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: join(run.dir, 'state') };

    const first = startInNamespace(args, run.dir, env);
    kill = () => first.kill();
    const cut = await first.done;
    expect(cut.code).not.toBe(0);
    expect(run.jsm.creates.length).toBeGreaterThanOrEqual(12);
    expect(run.jsm.creates.length).toBeLessThan(NEW);

    const again = await startInNamespace(args, run.dir, env).done;
    expect(again.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(again.code, again.stderr).toBe(0);
    expect(createdTwice(run.jsm)).toEqual([]);
    expect(run.jsm.desks[60]?.customers.size).toBe(NEW);
    const invited = smtp.sink.accepted().flatMap((m) => m.rcptTo.map((a) => a.toLowerCase()));
    expect(new Set(invited).size).toBe(invited.length);
    const list = await run.cli(['invitations', 'list', '--project', 'ITH', '--json']);
    const records = list.json<{ invitations: { email: string; status: string }[] }>().invitations;
    const inDoubt = records.filter((r) => r.status === 'in-doubt').map((r) => r.email.toLowerCase());
    // Nobody lost: the killed run's customers are owed, found, and invited by the re-run.
    expect(emails.filter((e) => !invited.includes(e) && !inDoubt.includes(e))).toEqual([]);
  });
});
