import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLock } from '../../src/store/lock.js';
import { startJsmDouble, type JsmDouble } from '../support/jsm-double.js';
import { BIN, runCli, startCli } from '../support/cli.js';
import { storeWith } from './shape.js';

let dir = '';
let store = '';
let jsm: JsmDouble;

beforeAll(async () => {
  ({ dir, store } = await storeWith(['ITH']));
  jsm = await startJsmDouble({});
});
afterAll(async () => {
  await jsm.close();
});

describe('completion', () => {
  it('bash: a script that parses (bash -n) and knows the commands and their options', async () => {
    const r = await runCli(['completion', 'bash'], { cwd: dir });
    expect(r.code).toBe(0);
    const file = join(dir, 'completion.bash');
    await writeFile(file, r.stdout);
    const check = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    for (const word of ['import-csv', 'import-mail', 'add-customer', 'project', 'invitations', 'customers', 'store', '--defer-invites', '--no-verification', 'unlock', 'preview']) {
      expect(r.stdout).toContain(word);
    }
    // Without `-o default`: bash would offer file names wherever the function offers none (--project, --profile).
    expect(r.stdout).toMatch(/^complete -F _jsm_provision jsm-provision$/m);
    expect(r.stdout).not.toContain('-o default');
  });

  it('bash: completes commands, an option\'s choices, files after an option that takes a path, and the shells', async () => {
    const script = join(dir, 'completion.bash');
    await writeFile(script, (await runCli(['completion', 'bash'], { cwd: dir })).stdout);
    const files = await mkdtemp(join(dir, 'files-'));
    await writeFile(join(files, 'customers.csv'), '');
    const complete = (...words: string[]): string[] => {
      const line = words.map((w) => `'${w}'`).join(' ');
      const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=(jsm-provision ${line}); COMP_CWORD=${words.length}; _jsm_provision; printf '%s\\n' "\${COMPREPLY[@]}"`, 'x', script], { cwd: files, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    expect(complete('imp')).toEqual(['import-csv', 'import-mail']);
    expect(complete('invitations', 'list', '--status', '')).toEqual(['failed', 'in-doubt', 'pending', 'sending', 'sent', 'suppressed']);
    expect(complete('import-csv', '--report', '')).toEqual(['customers.csv']);
    expect(complete('import-csv', 'cus')).toEqual(['customers.csv']);
    // A name with a space stays whole; a value that is no path (an address) is not offered files.
    await writeFile(join(files, 'my report.csv'), '');
    expect(complete('import-csv', '--report', 'my')).toEqual(['my report.csv']);
    expect(complete('add-customer', '--email', '')).toEqual([]);
    expect(complete('import-csv', '--project', '')).toEqual([]);
    expect(complete('customers', 'list', '--profile', '')).toEqual([]);
    expect(complete('completion', '')).toEqual(['--help', 'bash', 'fish', 'zsh']);
    expect(complete('project', '')).toEqual(['--help', 'create', 'list', 'set-notifications', 'show']);
  });

  it.skipIf(spawnSync('fish', ['--version']).status !== 0)('fish: files for arguments and paths, choices for --status, no subcommands again once one is given', async () => {
    const script = join(dir, 'completion.fish');
    await writeFile(script, (await runCli(['completion', 'fish'], { cwd: dir })).stdout);
    const files = await mkdtemp(join(dir, 'files-'));
    await writeFile(join(files, 'customers.csv'), '');
    const complete = (line: string): string[] => {
      const r = spawnSync('fish', ['-c', `source $argv[1]; complete -C"${line}"`, script], { cwd: files, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0] as string).sort();
    };
    expect(complete('jsm-provision import-csv cus')).toEqual(['customers.csv']);
    expect(complete('jsm-provision import-csv --report ')).toEqual(['customers.csv']);
    expect(complete('jsm-provision invitations list --status ')).toEqual(['failed', 'in-doubt', 'pending', 'sending', 'sent', 'suppressed']);
    expect(complete('jsm-provision project list ')).not.toContain('create');
    expect(complete('jsm-provision project ')).toEqual(['create', 'list', 'set-notifications', 'show']);
    expect(complete('jsm-provision add-customer --email ')).toEqual([]);
  });

  it('an unknown shell is a usage error naming the choices', async () => {
    const r = await runCli(['completion', 'tcsh'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });
});

describe('help and short options', () => {
  it("import-csv --help lists the environment variables it reads, and -y / -q", async () => {
    const r = await runCli(['import-csv', '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    const env = /Environment: (.*)/.exec(r.stdout)?.[1] ?? '';
    for (const name of ['JSM_TARGET', 'JSM_PROJECT', 'JSM_SMTP_URL', 'JSM_SMTP_PASSWORD', 'JSM_TOKEN', 'JSM_TOKEN_FILE', 'JSM_CONFIG', 'JSM_PROFILE']) expect(env).toContain(name);
    expect(r.stdout).toMatch(/-y, --yes/);
    expect(r.stdout).toMatch(/-q, --quiet/);
  });

  it('--help lists every environment variable, and defaults as a person reads them', async () => {
    const top = await runCli(['--help'], { cwd: dir });
    const env = /Environment: ([\s\S]*?)\nExit codes/.exec(top.stdout)?.[1] ?? '';
    for (const name of ['JSM_TARGET', 'JSM_PROJECT', 'JSM_TOKEN_FILE', 'JSM_PASSWORD_FILE', 'JSM_SMTP_URL', 'JSM_TEMPLATE_DIR', 'JSM_STATE_DIR', 'JSM_LOCK_WAIT', 'JSM_CONFIG', 'JSM_PROFILE', 'NO_COLOR']) {
      expect(env).toContain(name);
    }
    const help = (await runCli(['import-csv', '--help'], { cwd: dir })).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--concurrency <n> invitations (and JSM requests) in flight at once (default: 8)');
    expect(help).not.toMatch(/default: (\[\]|"8")/);
  });

  it('-q prints nothing on stdout', async () => {
    const r = await runCli(['project', 'list', '-q'], { cwd: dir, env: { JSM_TARGET: store } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('-q prints nothing for an import that went well, and on stderr why one exits 1', async () => {
    await writeFile(join(dir, 'good.csv'), 'email,name\nann@example.com,Ann\n');
    const good = await runCli(['import-csv', 'good.csv', '--project', 'ITH', '--no-invite', '-q'], { cwd: dir, env: { JSM_TARGET: store } });
    expect(good.code).toBe(0);
    expect(good.stdout + good.stderr).toBe('');
    await writeFile(join(dir, 'bad.csv'), 'email,name\nbob@example.com,Bob\nnot-an-address,Cy\n');
    const bad = await runCli(['import-csv', 'bad.csv', '--project', 'ITH', '--no-invite', '-q'], { cwd: dir, env: { JSM_TARGET: store } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/2 rows: 1 created, 0 existing, 1 invalid/);
    expect(bad.stderr).toMatch(/line 3: \[invalid\] not-an-address: /);
  });
});

describe('a store that does not exist', () => {
  it('is named, exit 2, and nothing is created (import-csv)', async () => {
    await writeFile(join(dir, 'one.csv'), 'email,name\nann@example.com,Ann\n');
    const r = await runCli(['import-csv', 'one.csv', '--project', 'ITH', '--target', 'new/jsm-store.json', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({
      ok: false,
      command: 'import-csv',
      error: { code: 'no-store', message: `no store at ${join(dir, 'new/jsm-store.json')}`, hint: expect.stringContaining('jsm-provision project create KEY --name') },
    });
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });
});

describe('store unlock on a store that does not exist', () => {
  it('names it (no-store, exit 2)', async () => {
    const r = await runCli(['store', 'unlock', '--target', 'missing/jsm-store.json', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, command: 'store unlock', error: { code: 'no-store', message: `no store at ${join(dir, 'missing/jsm-store.json')}` } });
  });
});

describe('an interrupt under --json still prints one object', () => {
  it('SIGINT while waiting for the lock: the object says interrupted, exit 130', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let waiting = (): void => undefined;
    const seen = new Promise<void>((resolve) => (waiting = resolve));
    const locking = withLock(store, () => held);
    const run = startCli(['project', 'create', 'NEW', '--name', 'New', '--target', store, '--json'], { cwd: dir });
    run.child.stderr.on('data', (d: Buffer) => {
      if (/lock/i.test(d.toString())) waiting();
    });
    await seen;
    run.child.kill('SIGINT');
    const r = await run.done;
    release();
    await locking;
    expect(r.code).toBe(130);
    expect(r.json()).toEqual({ ok: false, command: 'project create', error: { code: 'interrupted', message: expect.stringMatching(/^SIGINT: stopped/) } });
  });
});

describe('a REST run that would send invitations needs SMTP or an explicit outbox', () => {
  it('stops before writing (exit 2) and names the four ways', async () => {
    await writeFile(join(dir, 'rest.csv'), 'email,name\nnew1@example.com,New One\n');
    const state = join(dir, 'state');
    const r = await runCli(['import-csv', 'rest.csv', '--project', 'ITH', '--json'], { cwd: dir, env: { JSM_TARGET: jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: state } });
    expect(r.code).toBe(2);
    const body = r.json<{ error: { code: string; hint: string } }>();
    expect(body).toMatchObject({ ok: false, command: 'import-csv', error: { code: 'no-mail-route' } });
    for (const way of ['--smtp', '--outbox', '--no-invite', '--defer-invites']) expect(body.error.hint).toContain(way);
    expect(jsm.calls.filter((c) => c.method === 'POST')).toEqual([]);
    expect(await readdir(state).catch(() => [])).toEqual([]);
  });

  it('a dry run refuses it as the real run does (no "would be written to the outbox")', async () => {
    await writeFile(join(dir, 'rest-dry.csv'), 'email,name\nnew1@example.com,New One\n');
    const state = join(dir, 'state-dry');
    const r = await runCli(['import-csv', 'rest-dry.csv', '--project', 'ITH', '--dry-run'], { cwd: dir, env: { JSM_TARGET: jsm.url, JSM_TOKEN: 'test-token', JSM_STATE_DIR: state } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: this run would send invitations, but neither SMTP nor an outbox is set');
    expect(r.stdout + r.stderr).not.toContain('outbox/');
  });
});

describe('a value that is not one (issue: a folder as the store, --report --json)', () => {
  it('--target a folder: bad-target, exit 2, naming the store file inside it', async () => {
    await mkdir(join(dir, 'a-folder'), { recursive: true });
    for (const args of [['project', 'list'], ['project', 'create', 'NEW', '--name', 'New']]) {
      const r = await runCli([...args, '--target', 'a-folder', '--json'], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json()).toMatchObject({
        ok: false,
        error: { code: 'bad-target', message: '--target a-folder is a folder; the local store is a file', hint: expect.stringContaining('a-folder/jsm-store.json') },
      });
      expect(r.stdout).not.toContain('EISDIR');
    }
    expect(await readdir(join(dir, 'a-folder'))).toEqual([]);
  });

  it('--report --json: --report took the option as its file name; refused (exit 2) with one JSON object', async () => {
    await writeFile(join(dir, 'one.csv'), 'email,name\nann@example.com,Ann\n');
    const r = await runCli(['import-csv', 'one.csv', '--project', 'ITH', '--target', store, '--report', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({
      ok: false,
      command: 'import-csv',
      error: { code: 'missing-option-value', message: '--report needs a value, but the word after it is the option --json', hint: 'give --report <file.csv|file.json>, then --json separately' },
    });
  });
});

describe('plain words, not zod texts', () => {
  it('--concurrency abc: "must be a whole number"', async () => {
    const r = await runCli(['import-csv', 'one.csv', '--project', 'ITH', '--target', store, '--concurrency', 'abc', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toEqual({ ok: false, command: 'import-csv', error: { code: 'bad-option', message: '--concurrency "abc": must be a whole number' } });
  });
});

describe('CSV hints', () => {
  it('a wrong --delimiter gets a --delimiter hint, not a --map one', async () => {
    await writeFile(join(dir, 'semi.csv'), 'email;name\nann@example.com;Ann\n');
    const r = await runCli(['import-csv', 'semi.csv', '--project', 'ITH', '--delimiter', ',', '--target', store, '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    const body = r.json<{ error: { code: string; hint: string } }>();
    expect(body.error.hint).toMatch(/semicolon|;-separated|--delimiter ";"/);
    expect(body.error.hint).not.toContain('--map');
  });
});

it('the launcher is the one that runs (sanity)', () => {
  expect(existsSync(BIN)).toBe(true);
});
