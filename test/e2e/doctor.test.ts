/** `doctor`: what a command here would use, and whether the target, its credentials and SMTP work; it writes and sends nothing. */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerPathFor } from '../../src/store/ledger-file.js';
import { runCli } from '../support/cli.js';
import { createProjectStore, useSmtpSink } from '../support/e2e.js';
import { useTempDirs } from '../support/tmp.js';
import { useRestCli } from '../rest/cli.js';

const start = useRestCli();
const smtp = useSmtpSink();
const tempDir = useTempDirs();

describe('doctor on REST', () => {
  it('all well: the target and where it came from, whom the token logs in as, the ledger, SMTP checked; nothing written or sent (exit 0)', async () => {
    const run = await start();
    const r = await run.cli(['doctor', '--project', 'ITH', '--json', ...smtp.mail()]);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      ok: true,
      command: 'doctor',
      target: 'rest',
      deployment: 'dc',
      location: run.jsm.url,
      targetFrom: 'JSM_TARGET',
      config: { file: null, profile: null },
      project: 'ITH',
      projectFrom: '--project',
      ledger: { path: ledgerPathFor(run.jsm.url, { JSM_STATE_DIR: join(run.dir, 'state') }), exists: false },
      mail: { route: 'smtp', smtp: smtp.sink.url.replace(/\/$/, ''), from: 'help@example.com', outbox: null },
      credentials: { source: 'JSM_TOKEN', works: true, user: 'admin', jsmVersion: '5.12.0' },
      problems: [],
    });
    expect(run.jsm.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(smtp.sink.messages).toEqual([]);
    expect(await readdir(run.dir)).toEqual([]);
  });

  it('a token JSM refuses: credentials do not work, exit 3, the rest of the report still shown (in words)', async () => {
    const run = await start();
    const r = await run.cli(['doctor', '--project', 'ITH', '--outbox', 'out'], { env: { JSM_TOKEN: 'revoked-token' } });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^credentials {2}JSM_TOKEN: refused \(see below\)$/m);
    expect(r.stdout).toMatch(/^target {7}JSM http:\/\/127\.0\.0\.1:\d+ \(from JSM_TARGET\)$/m);
    expect(r.stdout).toContain(`ledger       ${ledgerPathFor(run.jsm.url, { JSM_STATE_DIR: join(run.dir, 'state') })} (not there yet`);
    expect(r.stdout).toContain(`mail         .eml files in the outbox ${join(run.dir, 'out')}`);
    expect(r.stderr).toContain(`error: authentication failed for ${run.jsm.url}: check JSM_TOKEN`);
    expect(r.stdout + r.stderr).not.toContain('revoked-token');
    expect(await readdir(run.dir)).toEqual([]);
  });

  it('a token file JSM refuses: doctor and the target name JSM_TOKEN_FILE alike (one reading of the credentials)', async () => {
    const run = await start();
    await writeFile(join(run.dir, 'token'), 'revoked-token\n');
    const env = { JSM_TOKEN: undefined, JSM_TOKEN_FILE: join(run.dir, 'token') };
    const r = await run.cli(['doctor', '--project', 'ITH', '--outbox', 'out'], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^credentials {2}JSM_TOKEN_FILE: refused \(see below\)$/m);
    expect(r.stderr).toContain(`error: authentication failed for ${run.jsm.url}: check JSM_TOKEN_FILE`);
    const list = await run.cli(['customers', 'list', '--project', 'ITH'], { env });
    expect(list.code).toBe(3);
    expect(list.stderr).toContain(`error: authentication failed for ${run.jsm.url}: check JSM_TOKEN_FILE`);
    expect(r.stdout + r.stderr + list.stdout + list.stderr).not.toContain('revoked-token');
  });

  it('a login with JSM_PASSWORD_FILE: doctor names the variables the target uses', async () => {
    const run = await start({ basic: { user: 'agent', password: 'right-password' } });
    await writeFile(join(run.dir, 'password'), 'right-password\n');
    const r = await run.cli(['doctor', '--project', 'ITH', '--outbox', 'out', '--json'], { env: { JSM_TOKEN: undefined, JSM_USER: 'agent', JSM_PASSWORD_FILE: join(run.dir, 'password') } });
    expect(r.json()).toMatchObject({ credentials: { source: 'JSM_USER and JSM_PASSWORD_FILE', works: true } });
  });
});

describe('doctor on a local store', () => {
  it('names the config file and the profile chosen, and where each setting came from', async () => {
    const dir = await tempDir();
    await createProjectStore(dir, 'team.json');
    await writeFile(join(dir, 'jsm-provision.config.json'), JSON.stringify({ target: 'team.json', profiles: { ci: { project: 'ITH' } } }));
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: { JSM_PROFILE: 'ci' } });
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      target: 'local',
      location: join(dir, 'team.json'),
      targetFrom: 'config',
      config: { file: join(dir, 'jsm-provision.config.json'), profile: 'ci' },
      project: 'ITH',
      projectFrom: 'config',
      ledger: { path: join(dir, 'team.json'), exists: true },
      mail: { route: 'outbox', outbox: join(dir, 'outbox') },
      credentials: { source: null, works: null },
    });
    expect((await readdir(dir)).sort()).toEqual(['jsm-provision.config.json', 'team.json']);
  });

  it('a setting that cannot work (SMTP without a sender) is bad configuration: exit 2, in problems and error', async () => {
    const dir = await tempDir();
    await createProjectStore(dir);
    const r = await runCli(['doctor', '--smtp', smtp.sink.url, '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({
      ok: false,
      mail: { route: 'smtp' },
      problems: [{ check: 'mail', code: 'missing-mail-from' }],
      error: { code: 'missing-mail-from' },
    });
  });
});
