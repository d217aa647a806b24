import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startInProcess } from '../support/cli.js';
import { createProjectStore, useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';

// main(args, io) in process: each run has its own streams, variables and folder, and returns its
// exit code; an interrupt is the io's, not a signal to this process.
const tempDir = useTempDirs();
const smtp = useSmtpSink();

describe('main(args, io) in process', () => {
  it('two runs at once each see their own folder and environment, and return their own exit code', async () => {
    const [a, b] = [await tempDir(), await tempDir()];
    const before = process.exitCode;
    const [ra, rb] = await Promise.all([
      runCli(['project', 'create', 'AAA', '--name', 'A', '--target', 'here.json', '--json'], { cwd: a }),
      runCli(['project', 'create', '--name', 'B', '--json'], { cwd: b, env: { JSM_TARGET: 'there.json', JSM_PROJECT: 'BBB' } }),
    ]);
    expect(ra.code, ra.stderr).toBe(0);
    // No key given: JSM_PROJECT is not an argument (a usage error, exit 2), whatever run A was doing.
    expect(rb.code).toBe(2);
    expect(rb.json()).toMatchObject({ ok: false, command: 'project create', error: { code: 'missing-argument' } });
    expect(existsSync(join(a, 'here.json'))).toBe(true);
    expect(existsSync(join(b, 'there.json'))).toBe(false);
    const list = await runCli(['project', 'list', '--json'], { cwd: b, env: { JSM_TARGET: join(a, 'here.json') } });
    expect(list.json()).toMatchObject({ projects: [{ key: 'AAA' }] });
    // Nothing in process was told to exit.
    expect(process.exitCode).toBe(before);
  });

  it('reads a relative CSV, report and outbox in its own folder, and standard input from its io', async () => {
    const dir = await tempDir();
    await createProjectStore(dir);
    await writeFile(join(dir, 'people.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const r = await runCli(['import-csv', 'people.csv', '--project', 'ITH', '--report', 'result.csv', '--outbox', 'out', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(join(dir, 'result.csv'), 'utf8')).toContain('ann@example.com');
    expect(existsSync(join(dir, 'out'))).toBe(true);
    const piped = await runCli(['import-csv', '-', '--project', 'ITH', '--no-invite', '--json'], { cwd: dir, input: 'email,name\nbo@example.com,Bo Ek\n' });
    expect(piped.json()).toMatchObject({ totals: { created: 1 } });
  });

  it('an interrupt through the io winds the run down: rows in flight finish, the run exits 130, a re-run finishes', async () => {
    const dir = await tempDir();
    await createProjectStore(dir);
    // 60 rows (was 200): invitations are claimed 24 at a time (src/core/send.ts) and an interrupt stops
    // the claiming, not what was claimed; it comes after the 10th is accepted, so at most two batches
    // (48) go out and the run still stops midway (sent < 60, checked below; 24 measured).
    const rows = Array.from({ length: 60 }, (_, i) => `p${i}@example.com,P ${i}`);
    await writeFile(join(dir, 'people.csv'), `email,name\n${rows.join('\n')}\n`);
    const args = ['import-csv', 'people.csv', '--project', 'ITH', '--json', ...smtp.mail()];
    const run = startInProcess(args, { cwd: dir });
    await smtp.sink.whenAccepted(10);
    run.interrupt('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: finishing the rows in flight');
    const sent = stopped.json<{ invitations: { sent: number } }>().invitations.sent;
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(sent).toBeLessThan(60);
    const rerun = await runCli(args, { cwd: dir });
    expect(rerun.code).toBe(0);
    expect(rerun.json()).toMatchObject({ invitations: { sent: 60 - sent, inDoubt: 0 } });
    expect(new Set(smtp.sink.accepted().map((m) => m.rcptTo[0])).size).toBe(60);
    expect(smtp.sink.accepted()).toHaveLength(60);
  });
});
