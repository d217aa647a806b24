import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createProjectStore } from '../support/e2e.js';
import { startJsmDouble, type JsmDouble } from '../support/jsm-double.js';
import { useTempDirs } from '../support/tmp.js';

// In process, a run's folder is its io's, never this process's: every relative path a run is given
// (option, environment variable or config file) lands in the run's folder as it did in a process.
const tempDir = useTempDirs();
const templates = fileURLToPath(new URL('../../fixtures/templates', import.meta.url));
let jsm: JsmDouble | undefined;
afterEach(async () => {
  await jsm?.close();
  jsm = undefined;
});

describe('relative paths in process', () => {
  it('from the environment (JSM_TARGET, JSM_OUTBOX, JSM_TEMPLATE_DIR) and from files named by options', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'a'));
    await createProjectStore(join(dir, 'a'), 's.json');
    await cp(templates, join(dir, 'tpl'), { recursive: true });
    await writeFile(join(dir, 'welcome-pw'), 'Secret-Pass-123!\n');
    const env = { JSM_TARGET: 'a/s.json', JSM_OUTBOX: 'o/b', JSM_TEMPLATE_DIR: 'tpl' };
    const add = await runCli(['add-customer', '--project', 'ITH', '--email', 'ann@example.com', '--name', 'Ann', '--password-file', 'welcome-pw', '--json'], { cwd: dir, env });
    expect(add.code, add.stderr).toBe(0);
    expect(add.json()).toMatchObject({ totals: { created: 1 }, invitations: { sent: 1, outbox: join(dir, 'o', 'b') } });
    expect(await readdir(join(dir, 'o', 'b'))).toHaveLength(1);
    const exported = await runCli(['customers', 'export', '--project', 'ITH', '--output', 'x.csv'], { cwd: dir, env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(await readFile(join(dir, 'x.csv'), 'utf8')).toContain('ann@example.com');
  });

  it('from a config file named relatively (--config, JSM_CONFIG): its paths are taken from its folder', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'conf'));
    await createProjectStore(join(dir, 'conf'), 'store.json');
    await writeFile(join(dir, 'conf', 'c.json'), JSON.stringify({ target: 'store.json', project: 'ITH', outbox: 'out' }));
    await writeFile(join(dir, 'people.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const viaFlag = await runCli(['import-csv', 'people.csv', '--config', 'conf/c.json', '--report', 'r.csv', '--json'], { cwd: dir });
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    expect(viaFlag.json()).toMatchObject({ totals: { created: 1 }, invitations: { outbox: join(dir, 'conf', 'out') } });
    expect(await readFile(join(dir, 'r.csv'), 'utf8')).toContain('ann@example.com');
    const viaEnv = await runCli(['customers', 'list', '--json'], { cwd: dir, env: { JSM_CONFIG: 'conf/c.json' } });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.json()).toMatchObject({ project: 'ITH', customers: [{ email: 'ann@example.com' }] });
    expect(await readdir(join(dir, 'conf', 'out'))).toHaveLength(1);
  });

  it('a relative JSM_STATE_DIR holds a REST target\'s ledger in the run\'s folder, and says its whole path', async () => {
    const dir = await tempDir();
    jsm = await startJsmDouble();
    await writeFile(join(dir, 'people.csv'), 'email,name\nann@example.com,Ann Lee\n');
    const env = { JSM_TARGET: jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: 'state' };
    const r = await runCli(['import-csv', 'people.csv', '--project', 'ITH', '--outbox', 'out', '--json'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(join(dir, 'state'))).some((f) => f.endsWith('.ledger.json'))).toBe(true);
    const listed = await runCli(['invitations', 'list', '--project', 'ITH', '--json'], { cwd: dir, env });
    const ledger = listed.json<{ ledger: { path: string } }>().ledger.path;
    expect(isAbsolute(ledger)).toBe(true);
    expect(ledger.startsWith(join(dir, 'state'))).toBe(true);
  });
});
