/**
 * An interrupt that comes once the last chunk of rows is written: the run ends as interrupted (130,
 * "Interrupted", what is left is said) when something was left undone (invitations not yet sent),
 * and as finished (0) when nothing was, saying that the interrupt found nothing left to stop. The
 * moment is the store's own marker (src/util/test-hooks.ts), seen on stderr as it is written.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startInProcess, type CliResult } from '../support/cli.js';
import { useProjectDir } from '../support/e2e.js';

const projectDir = useProjectDir();
const FINISHED = 'The interrupt came when every row was written and every invitation under way: the run finished, nothing is left to do.';
const INTERRUPTED = 'Interrupted: what was done is recorded. Run the same command again to finish.';

/** import-csv of two new customers, interrupted (as SIGINT) right after the `n`th `step` marker. */
async function interruptedAt(step: string, n: number, extra: string[], json = true): Promise<{ r: CliResult; dir: string }> {
  const dir = projectDir();
  await writeFile(join(dir, 'c.csv'), 'email,full name\nann@example.com,Ann Archer\nbob@example.com,Bob Baker\n');
  const run = startInProcess(['import-csv', 'c.csv', '--project', 'ITH', '--mail-from', 'help@example.com', ...(json ? ['--json'] : []), ...extra], { cwd: dir, env: { JSM_PROVISION_TEST_HOOKS: 'none' } });
  const write = run.stderr.write.bind(run.stderr);
  let seen = false;
  run.stderr.write = (chunk: string | Uint8Array): boolean => {
    const written = write(chunk);
    if (!seen && String(chunk).startsWith(`jsm-provision-test-hook: ${step} ${n} `)) {
      seen = true;
      run.interrupt();
    }
    return written;
  };
  const r = await run.done;
  expect(seen).toBe(true);
  return { r, dir };
}

describe('an interrupt after the last chunk of rows is written', () => {
  it('before the invitations are sent: 130, the invitations pending, "Interrupted"', async () => {
    const { r } = await interruptedAt('commit', 1, ['--outbox', 'out']);
    expect(r.code).toBe(130);
    const summary = r.json<{ ok: boolean; totals: object; invitations: object; error: { code: string } }>();
    expect(summary).toMatchObject({ ok: false, totals: { rows: 2, created: 2 }, invitations: { sent: 0, pending: 2 }, error: { code: 'interrupted' } });
  });

  it('says so in words: "Interrupted", what to do', async () => {
    const { r } = await interruptedAt('commit', 1, ['--outbox', 'out'], false);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(INTERRUPTED);
  });

  it('with nothing left to send (--no-invite): 0, every row done, and the interrupt is answered', async () => {
    const { r } = await interruptedAt('commit', 1, ['--no-invite']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, totals: { rows: 2, created: 2, failed: 0 }, invitations: { suppressed: 2, pending: 0 } });
  });

  it('with nothing left to send, says in words that the run finished', async () => {
    const { r } = await interruptedAt('commit', 1, ['--no-invite'], false);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 rows: 2 created, 0 existing, 0 invalid, 0 duplicate, 0 failed');
    expect(r.stderr).toContain(FINISHED);
    expect(r.stderr).not.toContain(INTERRUPTED);
  });

  it('after the last invitation was sent: 0 (not 130), both sent, nothing left to finish', async () => {
    const { r, dir } = await interruptedAt('sent', 2, ['--outbox', 'out']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, totals: { rows: 2, created: 2 }, invitations: { sent: 2, pending: 0, inDoubt: 0 } });
    expect((await readdir(join(dir, 'out'))).filter((f) => f.endsWith('.eml'))).toHaveLength(2);
  });

  it('after the last invitation was sent, says in words that the run finished', async () => {
    const words = await interruptedAt('sent', 2, ['--outbox', 'out'], false);
    expect(words.r.code).toBe(0);
    expect(words.r.stderr).toContain(FINISHED);
    expect(words.r.stderr).not.toContain(INTERRUPTED);
  });
});
