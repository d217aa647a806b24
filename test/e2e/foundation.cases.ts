// The add-customer contract is in add-customer.test.ts (split so that two workers share the spawns).
import { spawnSync } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { createProjectStore } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';

const tempDir = useTempDirs();
let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});

const cli = (args: string[], input?: string) => runCli(args, { cwd: dir, ...(input !== undefined ? { input } : {}) });

/** `project create` by the CLI: the contract tests of the project commands. */
async function createProject(): Promise<void> {
  const r = await cli(['project', 'create', 'ITH', '--name', 'IT Help']);
  expect(r.code).toBe(0);
}

/** The same store made in process, for tests about other commands (one spawn less each). */
const projectStore = (): Promise<unknown> => createProjectStore(dir);

describe('project commands', () => {
  it('creates, shows and switches the notification setting', async () => {
    await createProject();
    const show = await cli(['project', 'show', '--project', 'ITH', '--json']);
    expect(show.code).toBe(0);
    expect(show.json()).toMatchObject({ ok: true, project: 'ITH', projectDetails: { key: 'ITH', name: 'IT Help', sendVerificationEmails: true }, customers: 0 });
    const off = await cli(['project', 'set-notifications', '--project', 'ITH', '--no-verification', '--json']);
    expect(off.json()).toMatchObject({ ok: true, changed: true, projectDetails: { sendVerificationEmails: false } });
    const human = await cli(['project', 'show', '--project', 'ITH']);
    expect(human.stdout).toContain('"Do not send account verification emails" is on');
    const on = await cli(['project', 'set-notifications', '--project', 'ITH', '--verification', '--json']);
    expect(on.json()).toMatchObject({ changed: true, projectDetails: { sendVerificationEmails: true } });
  });

  it('lists the projects of the store, in words and as JSON', async () => {
    // No store yet: named as such (only project create makes one).
    const none = await cli(['project', 'list']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no store at');
    await createProject();
    await cli(['project', 'create', 'HR', '--name', 'People']);
    await cli(['project', 'set-notifications', '--project', 'HR', '--no-verification']);
    const list = await cli(['project', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.json<{ projects: { key: string; sendVerificationEmails: boolean }[] }>().projects.map((p) => [p.key, p.sendVerificationEmails]).sort()).toEqual([
      ['HR', false],
      ['ITH', true],
    ]);
    const words = await cli(['project', 'list']);
    expect(words.stdout).toMatch(/^HR {3}People {3}invitations off/m);
    expect(words.stdout).toMatch(/^ITH {2}IT Help {2}invitations on$/m);
  });

  it('refuses a second create, a bad key and set-notifications without a direction (exit 2)', async () => {
    await createProject();
    const again = await cli(['project', 'create', 'ITH', '--name', 'Other', '--json']);
    expect(again.code).toBe(2);
    expect(again.json()).toMatchObject({ ok: false, command: 'project create', error: { code: 'project-exists' } });
    const bad = await cli(['project', 'create', 'it-help', '--name', 'X']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a project key is 2 to 10 characters');
    const neither = await cli(['project', 'set-notifications', '--project', 'ITH']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('--no-verification');
  });

  it('answers an unknown project with exit 3, listing the projects that exist', async () => {
    await createProject();
    await cli(['project', 'create', 'HR', '--name', 'People']);
    const r = await cli(['add-customer', '--project', 'NOPE', '--email', 'a@example.com', '--name', 'A', '--json']);
    expect(r.code).toBe(3);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'unknown-project' } });
    expect(r.stderr).toContain('ITH, HR');
  });
});

describe('pipes', () => {
  it('ends quietly when the reader closes the pipe early (| head)', async () => {
    await projectStore();
    const rows = ['email,name', ...Array.from({ length: 3000 }, (_, i) => `p${i}@example.com,P ${i}`)].join('\n');
    await cli(['import-csv', '-', '--project', 'ITH', '--no-invite'], rows);
    // A real shell pipe into head, which exits after one line.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" customers list --project ITH --target jsm-store.json | head -1; exit \${PIPESTATUS[0]}`], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout.split('\n')[0]).toMatch(/^p0@example\.com/);
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('EPIPE');
  });
});
