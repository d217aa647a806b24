import { spawnSync } from 'node:child_process';
import { mkdir, copyFile, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { useTempDirs } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tempDir = useTempDirs();

/** A `## ` section of a Markdown file, without its heading. */
function section(markdown: string, heading: string): string {
  return markdown.split(new RegExp(`^## ${heading}$`, 'm'))[1]?.split(/^## /m)[0] ?? '';
}

/** The README's Quickstart: exactly two shell commands, the main job first. */
async function quickstartCommands(): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  return [...section(readme, 'Quickstart').matchAll(/```sh\n([^`]+?)\n```/g)].map((m) => (m[1] ?? '').trim());
}

describe("the README's Quickstart", () => {
  it('has two commands: one installs and runs the test suite, one installs and imports a shipped sample', async () => {
    const commands = await quickstartCommands();
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/^npm ci && npm run build && /);
    expect(commands[0]).toMatch(/import-csv fixtures\/\S+\.csv/);
    expect(commands[1]).toBe('npm ci && npm test');
    // Nothing else: no third command in another kind of block.
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(section(readme, 'Quickstart').match(/^```/gm)).toHaveLength(4);
  });

  it('comes after Install, at the top of a README of at most 300 lines', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    expect([...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]).slice(0, 2)).toEqual(['Install', 'Quickstart']);
    const install = section(readme, 'Install');
    expect(install).toContain('npm ci && npm run build && npm link');
    expect(install).toContain('npm pack');
    expect(install).toContain('npm install -g ./jsm-provision-*.tgz');
    expect(install).toContain('npx jsm-provision');
  });

  it('its main job exits 0, and exits 0 again when run a second time (nothing new the second time)', async () => {
    const [main] = await quickstartCommands();
    // The install and build steps are the suite's own; the rest runs as written, in a fresh folder.
    const job = (main ?? '').replace(/^npm ci && npm run build && /, '').replaceAll('node bin/jsm-provision.js', `"${process.execPath}" "${BIN}"`);
    const dir = await tempDir();
    const fixture = /import-csv (fixtures\/\S+\.csv)/.exec(job)?.[1] ?? '';
    await mkdir(join(dir, 'fixtures'));
    await copyFile(join(ROOT, fixture), join(dir, fixture));
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const name of ['JSM_TARGET', 'JSM_PROJECT', 'JSM_SMTP_URL', 'JSM_MAIL_FROM', 'JSM_OUTBOX']) delete env[name];
    const first = spawnSync('sh', ['-c', job], { cwd: dir, env, encoding: 'utf8' });
    expect(first.stderr).not.toMatch(/error|Error/);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/12 created/);
    const written = (await readdir(join(dir, 'outbox'))).filter((f) => f.endsWith('.eml'));
    expect(written).toHaveLength(12);
    expect((await stat(join(dir, 'import-report.csv'))).size).toBeGreaterThan(0);

    const second = spawnSync('sh', ['-c', job], { cwd: dir, env, encoding: 'utf8' });
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/already exists/);
    expect(second.stdout).toMatch(/12 existing/);
    expect(second.stdout).toMatch(/^ {2}invitations: 0 sent \(customers who already exist are not invited again\)$/m);
    expect((await readdir(join(dir, 'outbox'))).filter((f) => f.endsWith('.eml'))).toHaveLength(12);

    // The next example, the messy sample (docs/csv-input.md), in the same folder: bad rows by line, exit 1.
    const csvInput = await readFile(join(ROOT, 'docs/csv-input.md'), 'utf8');
    const messy = /```sh\n([^`]+?)\n```/.exec(section(csvInput, 'A messy export'))?.[1]?.trim() ?? '';
    expect(messy).toMatch(/import-csv fixtures\/customers\.csv/);
    await copyFile(join(ROOT, 'fixtures/customers.csv'), join(dir, 'fixtures/customers.csv'));
    const third = spawnSync('sh', ['-c', messy.replace(/^jsm-provision /, `"${process.execPath}" "${BIN}" `)], { cwd: dir, env, encoding: 'utf8' });
    expect(third.status).toBe(1);
    expect(third.stdout).toMatch(/20 rows: 14 created, 4 existing, 1 invalid, 1 duplicate, 0 failed/);
    expect(third.stdout).toMatch(/line 13: \[invalid\]/);
    expect(third.stdout).toMatch(/line 15: \[duplicate\]/);
  });
});

describe('project create', () => {
  it('makes the folder of a new store', async () => {
    const dir = await tempDir();
    const r = spawnSync(process.execPath, [BIN, 'project', 'create', 'ITH', '--name', 'IT Help', '--target', 'stores/new/jsm-store.json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect((await stat(join(dir, 'stores/new/jsm-store.json'))).isFile()).toBe(true);
  });
});

// More tests that need processes of their own (docs/development.md, "Tests"): this file runs them, so
// that few files start processes.
import './foundation.cases.js';
import '../cli/shell-word.cases.js';
